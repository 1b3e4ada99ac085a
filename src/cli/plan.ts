/**
 * `provisioner plan`: what `provision` with the same options would create,
 * where, and who must approve, printed in plain language or as JSON. It reads
 * the manifests and the configuration only: no server is started, no job
 * stored, no outside system asked (conflicts with existing tenants are found
 * when the request is submitted).
 */
import { placementOf, type Config } from '../config.ts';
import { NotAllowedError } from '../domain/errors.ts';
import { decide, type Identity } from '../domain/policy.ts';
import { previewLines } from '../domain/preview.ts';

export async function planText(config: Config, raw: unknown, who: Identity, json: boolean): Promise<string[]> {
  // Whoever may not ask for a tenant may not preview one either: the same policy as provision.
  const decision = decide(who, 'provision', config.policy);
  if (!decision.allowed) throw new NotAllowedError(decision.reason);
  const [{ loadManifests }, { stepTypes }, { previewRequest }] = await Promise.all([
    import('../manifests/load.ts'),
    import('../steps/registry.ts'),
    import('../app/preview.ts'),
  ]);
  const manifests = loadManifests({ manifestsDir: config.manifestsDir, seedDir: config.seedDir, stepTypes, sampleTenantSettings: config.tenant });
  const preview = previewRequest(raw, who, {
    manifests,
    settings: config.tenant,
    catalogue: stepTypes,
    planners: stepTypes,
    placement: placementOf(config),
    now: new Date(),
  });
  return json ? [JSON.stringify(preview, null, 2)] : previewLines(preview);
}
