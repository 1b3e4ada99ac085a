-- FerretDB (1.24, postgresql handler) pushes an equality filter down as
-- `_jsonb->'field' @> '"value"'`, but builds its indexes as btrees on
-- `(_jsonb->'field')`, which cannot serve `@>`: every find, even by _id, is a
-- sequential scan of the collection's table (76 ms per _id lookup at 200,000
-- documents). For every btree index FerretDB creates, this adds a GIN twin on
-- the index's leading field, which serves exactly that filter (0.7 ms).
-- The twin is invisible to FerretDB (it lists indexes from its own metadata)
-- and goes with the table when the collection is dropped.
CREATE OR REPLACE FUNCTION public.ferretdb_gin_twin() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
  first_key text;
  tbl regclass;
  name text;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    SELECT pg_get_indexdef(i.indexrelid, 1, false), i.indrelid::regclass, c.relname
      INTO first_key, tbl, name
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am a ON a.oid = c.relam
     WHERE i.indexrelid = created.objid AND a.amname = 'btree';
    -- Only FerretDB's own field indexes; the twin itself (gin) does not come back here.
    IF first_key LIKE '((_jsonb -> %' THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s jsonb_path_ops)', left(name, 59) || '_gin', tbl, first_key);
    END IF;
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS ferretdb_gin_twins;
CREATE EVENT TRIGGER ferretdb_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION public.ferretdb_gin_twin();
