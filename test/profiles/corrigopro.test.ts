/**
 * corrigopro: golden bytes of the Header block and headers; the credential itself (bearer or OAuth 2)
 * is the sender's, tested end to end in test/delivery/profile-deliveries.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corrigoDate, corrigoMessageId, corrigoProProfile } from '../../src/profiles/corrigopro.ts';
import { event, renderInput } from './profile-input.ts';

test('golden bytes: Header with the data header fields, then Action, ActionDate, ApiVersion, MessageId', () => {
  const out = corrigoProProfile.render(
    renderInput({
      secret: 'unused_secret',
      events: [
        event('c1d3d80f-a76c-452c-9261-682279a659cb', 'WorkOrderAccepted', {
          WorkOrderId: 42,
          BranchId: 492042,
          Sender: { Name: 'Jon Snow', Phone: '+12025550141', Type: 'CorrigoPro' },
          Status: 'Accepted',
          Eta: null,
        }),
      ],
    }),
  );
  assert.equal(
    out.body,
    '{"Header":{"WorkOrderId":42,"BranchId":492042,"Sender":{"Name":"Jon Snow","Phone":"+12025550141","Type":"CorrigoPro"},' +
      '"Action":"WorkOrderAccepted","ActionDate":"2030-01-02T03:04:00.1230000Z","ApiVersion":"1.1",' +
      '"MessageId":"c1d3d80f-a76c-452c-9261-682279a659cb"},"Status":"Accepted","Eta":null}',
  );
  assert.deepEqual(out.headers, {
    'content-type': 'application/json; charset=utf-8',
    'event-type': 'WorkOrderAccepted',
  });
});

test('a Header object in the data merges in, apiVersion is an option, Herald fields win, Header stays first', () => {
  const out = corrigoProProfile.render(
    renderInput({
      secret: 'unused_secret',
      options: { apiVersion: '2.0' },
      events: [
        event(
          'msg_9',
          'WorkOrderCreated',
          { 7: 'seven', Header: { Extra: 1, Action: 'spoofed' }, WorkOrderId: 43 },
          new Date('2030-01-01T00:00:00Z'),
        ),
      ],
    }),
  );
  assert.equal(
    out.body,
    '{"Header":{"Extra":1,"Action":"WorkOrderCreated","WorkOrderId":43,"ActionDate":"2030-01-01T00:00:00.0000000Z",' +
      '"ApiVersion":"2.0","MessageId":"650fe397-2b6d-566b-ae17-3c5531492070"},"7":"seven"}',
  );
});

test('MessageId: a UUID event id as is, any other a stable v5 UUID of it', () => {
  assert.equal(
    corrigoMessageId('C1D3D80F-A76C-452C-9261-682279A659CB'),
    'c1d3d80f-a76c-452c-9261-682279a659cb',
  );
  const id = corrigoMessageId('msg_9');
  assert.equal(id, corrigoMessageId('msg_9'));
  assert.notEqual(id, corrigoMessageId('msg_10'));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(corrigoDate(new Date('2018-09-04T10:12:08.167Z')), '2018-09-04T10:12:08.1670000Z');
});
