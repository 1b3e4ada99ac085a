/**
 * A small checker for the subset of MongoDB's `$jsonSchema` that the tenant
 * collections use. FerretDB (our test and local server) refuses collection
 * validators, so the provisioner checks every document itself, against the
 * very schema a real MongoDB enforces as the collection's validator: one
 * source of truth, checked before any write either way.
 *
 * Only the keywords below are understood; keeping the type closed means a
 * schema cannot use a keyword this checker would silently ignore.
 */

export type JsonSchema = {
  bsonType: 'object' | 'array' | 'string';
  /** Why the rule exists; appended to violation messages for the person who must fix the data. */
  description?: string;
  required?: readonly string[];
  properties?: Readonly<Record<string, JsonSchema>>;
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: readonly string[];
};

export type SchemaViolation = {
  /** Path without dots, for people: `permissions[2]`, `features/sso`, or "" for the document itself. */
  field: string;
  /** Reads after the record name: `is missing "description"`. */
  problem: string;
  /** The rule's description, when the schema gives one. */
  why?: string;
};

export function validateAgainstSchema(value: unknown, schema: JsonSchema): SchemaViolation[] {
  return check(value, schema, '');
}

function check(value: unknown, schema: JsonSchema, field: string): SchemaViolation[] {
  const violation = (problem: string): SchemaViolation[] => [withWhy({ field, problem }, schema)];
  if (schema.bsonType === 'string') {
    if (typeof value !== 'string') return violation(`${subject(field)} must be text`);
    return checkString(value, schema, field);
  }
  if (schema.bsonType === 'array') {
    if (!Array.isArray(value)) return violation(`${subject(field)} must be a list`);
    return checkArray(value, schema, field);
  }
  if (!isRecord(value)) return violation(`${subject(field)} must be a document`);
  return checkObject(value, schema, field);
}

function checkString(value: string, schema: JsonSchema, field: string): SchemaViolation[] {
  const problems: string[] = [];
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    problems.push(value.length === 0 ? `${subject(field)} is empty` : `${subject(field)} is shorter than ${schema.minLength} characters`);
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) {
    problems.push(`${subject(field)} is longer than ${schema.maxLength} characters`);
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    problems.push(`${subject(field)} has "${value}", which is not in the required form`);
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    problems.push(`${subject(field)} has "${value}", which is not one of ${schema.enum.map((v) => `"${v}"`).join(', ')}`);
  }
  return problems.map((problem) => withWhy({ field, problem }, schema));
}

function checkArray(value: readonly unknown[], schema: JsonSchema, field: string): SchemaViolation[] {
  const violations: SchemaViolation[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    const problem = value.length === 0 ? `${subject(field)} is empty` : `${subject(field)} has fewer than ${schema.minItems} entries`;
    violations.push(withWhy({ field, problem }, schema));
  }
  if (schema.uniqueItems === true) {
    const repeated = value.find((item, index) => value.indexOf(item) !== index);
    if (repeated !== undefined) violations.push(withWhy({ field, problem: `${subject(field)} lists "${String(repeated)}" twice` }, schema));
  }
  const items = schema.items;
  if (items !== undefined) for (const [index, item] of value.entries()) violations.push(...check(item, items, `${field}[${index}]`));
  return violations;
}

function checkObject(value: Readonly<Record<string, unknown>>, schema: JsonSchema, field: string): SchemaViolation[] {
  const violations: SchemaViolation[] = [];
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) {
      const missing = properties[name];
      violations.push(withWhy({ field: join(field, name), problem: `is missing "${join(field, name)}"` }, missing ?? schema));
    }
  }
  for (const [name, child] of Object.entries(value)) {
    const childSchema = properties[name];
    if (childSchema !== undefined) violations.push(...check(child, childSchema, join(field, name)));
    else if (schema.additionalProperties === false) {
      violations.push(
        withWhy({ field: join(field, name), problem: `has field "${join(field, name)}", which the current schema does not know` }, schema),
      );
    }
  }
  return violations;
}

function withWhy(violation: SchemaViolation, schema: JsonSchema): SchemaViolation {
  return schema.description === undefined ? violation : { ...violation, why: schema.description };
}

function subject(field: string): string {
  return field === '' ? 'the document' : `field "${field}"`;
}

function join(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
