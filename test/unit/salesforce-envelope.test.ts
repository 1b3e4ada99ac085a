/**
 * Reading a Salesforce Outbound Message, without a server: the XML is read
 * safely (no document type, no entity but XML's own five), namespaces decide
 * what an element is whatever its prefix, every problem is named where it is,
 * and the Opportunity's fields become an intake through the field map.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifests/load.ts';
import type { SalesforceMap } from '../../src/manifests/salesforce.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { loadConfig } from '../../src/config.ts';
import { readEnvelope, type EnvelopeReading } from '../../src/http/routes/webhooks/salesforce/envelope.ts';
import { opportunityDeal } from '../../src/http/routes/webhooks/salesforce/opportunity.ts';
import { acknowledgement, fault } from '../../src/http/routes/webhooks/salesforce/soap.ts';
import { readXml } from '../../src/http/routes/webhooks/salesforce/xml.ts';
import { GLOBEX, INITECH, ORG_ID, sample, today, UMBRELLA, withNotifications } from '../support/salesforce.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function fieldMap(): SalesforceMap {
  const { salesforce } = loadManifests({
    manifestsDir: path.join(repoRoot, 'manifests'),
    seedDir: path.join(repoRoot, 'seed-manifests'),
    stepTypes,
    sampleTenantSettings: loadConfig({}).tenant,
  });
  if (!salesforce) throw new Error('the repository has no manifests/salesforce.yaml');
  return salesforce;
}

function read(xml: string): EnvelopeReading {
  const parsed = readXml(xml);
  return parsed.ok ? readEnvelope(parsed.root) : { ok: false, problems: [parsed.problem] };
}

function problemsOf(xml: string): string[] {
  const reading = read(xml);
  if (reading.ok) throw new Error('expected the message to be refused');
  return reading.problems;
}

function messageOf(xml: string) {
  const reading = read(xml);
  if (!reading.ok) throw new Error(`refused: ${reading.problems.join('; ')}`);
  return reading.message;
}

describe('an outbound message as Salesforce sends it', () => {
  it('with one notification: the org, the notification id and the Opportunity fields, entities decoded, no session kept', () => {
    const message = messageOf(sample('one-opportunity'));
    expect(message).toMatchObject({
      organizationId: ORG_ID,
      actionId: '04k5e000000CaRkAAK',
      enterpriseUrl: 'https://globex-crm.my.salesforce.com/services/Soap/c/62.0/00D5e000000KQ2e',
    });
    expect(message.notifications).toHaveLength(1);
    const [globex] = message.notifications;
    expect(globex?.id).toBe(GLOBEX.notificationId);
    expect(globex?.opportunityId).toBe(GLOBEX.opportunityId);
    expect(globex?.fields.get('Account_Name__c')).toBe('Globex & Sons Inc');
    expect(globex?.fields.get('Amount')).toBe('150000.0');
    // The session is a live Salesforce credential: nothing read from the message holds it.
    expect(JSON.stringify(message, (_k, v: unknown) => (v instanceof Map ? [...v] : v))).not.toContain('fake.session');
  });

  it('with two notifications and a nil SessionId, a nil field read as null', () => {
    const message = messageOf(sample('two-opportunities'));
    expect(message.notifications.map((n) => [n.id, n.opportunityId])).toEqual([
      [INITECH.notificationId, INITECH.opportunityId],
      [UMBRELLA.notificationId, UMBRELLA.opportunityId],
    ]);
    expect(message.notifications[1]?.fields.get('Data_Residency__c')).toBeNull();
  });

  it('whatever prefixes the sender chose: namespaces decide', () => {
    const xml = sample('one-opportunity')
      .replaceAll('soapenv:', 'S:')
      .replace('xmlns:soapenv=', 'xmlns:S=')
      .replaceAll('sf:', 'o:')
      .replace('xmlns:sf=', 'xmlns:o=');
    expect(xml).toContain('<S:Envelope');
    expect(xml).toContain('xsi:type="o:Opportunity"');
    expect(messageOf(xml).notifications[0]?.fields.get('Plan__c')).toBe('Growth');
  });
});

describe('a message that is not one is named, never half-read', () => {
  it('an XXE payload is refused before parsing: nothing of the file it names is read', () => {
    const xxe = sample('one-opportunity').replace(
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>',
    );
    const problems = problemsOf(xxe.replace('Globex &amp; Sons Inc', '&xxe;'));
    expect(problems).toEqual([expect.stringContaining('document type declaration')]);
    expect(problems.join()).not.toContain('root:');
  });

  it('a "billion laughs" bomb is refused at once, unexpanded', () => {
    const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`)];
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [${lol.join('')}]>\n<lolz>&lol9;</lolz>`;
    const started = performance.now();
    expect(problemsOf(bomb)).toEqual([expect.stringContaining('document type declaration')]);
    expect(performance.now() - started).toBeLessThan(50);
    // An entity used without any declaration is not expanded either.
    expect(problemsOf(sample('one-opportunity').replace('Globex &amp; Sons Inc', '&lol9;'))).toEqual([
      'the XML uses the entity &lol9;, which is not declared (only &lt; &gt; &amp; &quot; &apos; are)',
    ]);
  });

  it('malformed XML is named with its line and column', () => {
    const broken = sample('one-opportunity').replace('</sf:Plan__c>', '</sf:Plan>');
    expect(problemsOf(broken)).toEqual([expect.stringMatching(/^the body is not well-formed XML: .*'sf:Plan__c'.* \(line 20, column 24\)$/)]);
    expect(problemsOf('')).toEqual([expect.stringContaining('not well-formed XML')]);
    expect(problemsOf('{"notifications": []}')).toEqual([expect.stringContaining('not well-formed XML')]);
  });

  it('something else than a SOAP envelope, or a body without notifications', () => {
    expect(problemsOf('<notifications xmlns="http://soap.sforce.com/2005/09/outbound"/>')).toEqual([
      'the root element is <notifications> in namespace http://soap.sforce.com/2005/09/outbound; a SOAP 1.1 message is an Envelope in namespace http://schemas.xmlsoap.org/soap/envelope/',
    ]);
    const wrongNamespace = sample('one-opportunity').replace('http://soap.sforce.com/2005/09/outbound', 'http://example.com/outbound');
    expect(problemsOf(wrongNamespace)).toEqual([
      'Envelope/Body: no notifications element in namespace http://soap.sforce.com/2005/09/outbound (found <notifications> in namespace http://example.com/outbound)',
    ]);
  });

  it('names each missing or wrong value where it is', () => {
    const xml = sample('two-opportunities')
      .replace('<OrganizationId>00D5e000000KQ2eEAG</OrganizationId>', '')
      .replace('<Id>04l5e00000Gx8AcAAJ</Id>', '<Id>not-an-id</Id>')
      .replace('<sf:Id>0065e00000B1hMnAAJ</sf:Id>', '<sf:Id>0015e00000ZkM3hAAF</sf:Id>');
    expect(problemsOf(xml)).toEqual([
      'notifications/OrganizationId: missing: Salesforce always sends the organization id',
      'notifications/Notification[1]/sObject/Id: "0015e00000ZkM3hAAF" is not Opportunity id (those start with 006)',
      'notifications/Notification[2]/Id: "not-an-id" is not a Salesforce id (15 or 18 letters and digits)',
    ]);
  });

  it('another object than an Opportunity, an undeclared prefix, a field sent twice', () => {
    const account = sample('one-opportunity').replace('xsi:type="sf:Opportunity"', 'xsi:type="sf:Account"');
    expect(problemsOf(account)).toEqual([expect.stringContaining('Notification[1]/sObject: is typed "sf:Account"; only Opportunity records')]);
    const undeclared = sample('one-opportunity').replace(' xmlns:sf="urn:sobject.enterprise.soap.sforce.com"', '');
    expect(problemsOf(undeclared)).toEqual([expect.stringContaining('the prefix "sf" of <sf:Id> is not declared')]);
    const twice = sample('one-opportunity').replace('<sf:StageName>', '<sf:Amount>1</sf:Amount><sf:StageName>');
    expect(problemsOf(twice)).toEqual(['notifications/Notification[1]/sObject/Amount: sent twice']);
  });

  it('more than the 100 notifications Salesforce ever sends', () => {
    expect(messageOf(withNotifications(100)).notifications).toHaveLength(100);
    expect(problemsOf(withNotifications(101))).toEqual(['notifications/Notification: 101 notifications; Salesforce sends at most 100']);
  });

  it('nesting far deeper than a SOAP message is refused without exhausting the stack', () => {
    const deep = `${'<a>'.repeat(50_000)}${'</a>'.repeat(50_000)}`;
    expect(problemsOf(deep)).toEqual([expect.stringMatching(/nested|could not be read/)]);
  });
});

describe('an Opportunity through the field map', () => {
  const map = fieldMap();

  it('becomes the intake: company, suggested slug, mapped plan and residency, amount and date as the intake reads them', () => {
    const [globex] = messageOf(sample('one-opportunity')).notifications;
    if (!globex) throw new Error('no notification');
    expect(opportunityDeal(globex, map)).toEqual({
      deliveryId: GLOBEX.notificationId,
      opportunityId: GLOBEX.opportunityId,
      intake: {
        companyName: 'Globex & Sons Inc',
        slug: 'globex-sons',
        adminEmail: 'it-admin@globex.example',
        plan: 'growth',
        contractStartDate: today(),
        contractValue: 150000,
        dataResidency: 'eu',
        featureOverrides: {},
        crmOpportunityId: GLOBEX.opportunityId,
      },
      sent: [
        { field: 'Id', value: GLOBEX.opportunityId },
        { field: 'Account_Name__c', value: 'Globex & Sons Inc' },
        { field: 'Plan__c', value: 'Growth' },
        { field: 'Admin_Email__c', value: 'it-admin@globex.example' },
        { field: 'CloseDate', value: today() },
        { field: 'Amount', value: '150000.0' },
        { field: 'Data_Residency__c', value: 'European Union' },
      ],
      problems: [],
    });
  });

  it('reads Java’s exponent form of large amounts, and a nil residency as the plans’ default', () => {
    const [initech, umbrella] = messageOf(sample('two-opportunities')).notifications;
    if (!initech || !umbrella) throw new Error('two notifications expected');
    expect(opportunityDeal(initech, map).intake).toMatchObject({ contractValue: 12_000_000, plan: 'enterprise', dataResidency: 'uk' });
    expect(opportunityDeal(umbrella, map).intake).not.toHaveProperty('dataResidency');
  });

  it('names an unmapped plan value and a missing admin email, with the Salesforce fields', () => {
    const xml = sample('one-opportunity', {
      '<sf:Plan__c>Growth</sf:Plan__c>': '<sf:Plan__c>Platinum</sf:Plan__c>',
      '<sf:Admin_Email__c>it-admin@globex.example</sf:Admin_Email__c>': '',
    });
    const [globex] = messageOf(xml).notifications;
    if (!globex) throw new Error('no notification');
    const deal = opportunityDeal(globex, map);
    expect(deal.problems).toEqual([
      {
        field: 'adminEmail',
        message: "Salesforce did not send Admin_Email__c (the customer admin's email); add it to the outbound message's fields",
      },
      {
        field: 'plan',
        message:
          'Salesforce\'s plan "Platinum" (Plan__c) is not mapped in salesforce.yaml (mapped: "Starter", "Growth", "Enterprise"); choose the plan',
      },
    ]);
    expect(deal.intake).not.toHaveProperty('plan');
    expect(deal.sent).toContainEqual({ field: 'Plan__c', value: 'Platinum' });
  });
});

describe('the answers', () => {
  it('acknowledge as Salesforce expects, and a fault escapes whatever it quotes', () => {
    expect(acknowledgement()).toContain(
      '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>',
    );
    const answer = fault('Client', 'the entity &x; in <sf:Name>');
    expect(answer).toContain('<faultcode>soapenv:Client</faultcode><faultstring>the entity &amp;x; in &lt;sf:Name&gt;</faultstring>');
    expect(readXml(answer).ok).toBe(true);
  });
});
