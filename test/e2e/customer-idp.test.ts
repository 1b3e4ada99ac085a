/**
 * An enterprise customer signs in with their own identity provider: the SSO
 * step waits for their SAML metadata, a person pastes the wrong thing and is
 * told what is missing, then pastes the real metadata and the tenant goes
 * live with the customer's IdP registered in Okta.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adfsMetadata, ISSUER } from '../fixtures/saml.ts';
import { appPerTest, dealFor, stepsById, waitForStatus, waitForStep } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const startApp = appPerTest();

/** The repo's pipeline, with SSO through the customer's own IdP. */
function customerIdpPipeline(): string {
  const pipeline = readFileSync(resolve(ROOT, 'manifests/pipeline.yaml'), 'utf8');
  if (!pipeline.includes('mode: okta_oidc')) throw new Error('the pipeline no longer sets the SSO mode');
  return pipeline.replace('mode: okta_oidc', 'mode: customer_idp');
}

describe('a customer brings their own identity provider', () => {
  it('SSO waits for their SAML metadata, asks again when it is incomplete, then the tenant goes live', async () => {
    const app = await startApp({ pipeline: customerIdpPipeline(), emulators: true });
    const { job } = await app.service.provision(dealFor({ plan: 'growth', contractValue: 60_000, companyName: 'Contoso' }), REQUESTER);
    const waiting = await waitForStep(app, job.jobId, 'sso', ['waiting_input'], 30_000);
    expect(stepsById(waiting)['sso']?.waitingFor).toMatch(/SAML metadata/);
    expect(app.emulators?.okta.idps()).toEqual([]);

    // Metadata without the signing certificate: the step asks again, naming what is missing.
    await app.service.provideInput(job.tenant.slug, person('pat.csm'), { details: adfsMetadata({ signing: false }) }, 'sso');
    const askedAgain = await waitForStep(app, job.jobId, 'sso', ['waiting_input'], 30_000);
    expect(stepsById(askedAgain)['sso']?.waitingFor).toMatch(/cannot be used: .*certificate/i);

    await app.service.provideInput(job.tenant.slug, person('pat.csm'), { details: adfsMetadata() }, 'sso');
    const live = await waitForStatus(app, job.jobId, ['live', 'failed'], 30_000);
    expect(live.status).toBe('live');
    const idps = app.emulators?.okta.idps() ?? [];
    expect(idps.map((idp) => ({ issuer: idp.issuer, status: idp.status }))).toEqual([{ issuer: ISSUER, status: 'ACTIVE' }]);
    expect(stepsById(live)['sso']?.outputs).toMatchObject({ idpIssuer: ISSUER });
  });
});
