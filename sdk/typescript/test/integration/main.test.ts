/**
 * The integration tests, against a real devnet: the one `BILLFLOW_DEVNET_JSON`
 * names, or one started for the run and stopped after it.
 */

import { after, before } from 'node:test';

import { type TestDevnet, useDevnet } from '../support/devnet.js';
import { Context } from './context.js';
import { evidenceSuite } from './evidence.js';
import { streamsSuite } from './streams.js';
import { transportSuite } from './transport.js';
import { flowsSuite } from './flows.js';
import { encodingSuite } from './encoding.js';

const ctx = new Context();
let devnet: TestDevnet | undefined;

before(async () => {
  devnet = await useDevnet();
  ctx.path = devnet.path;
}, { timeout: 300_000 });

after(async () => {
  await devnet?.stop();
});

transportSuite(ctx);
evidenceSuite(ctx);
streamsSuite(ctx);
flowsSuite(ctx);
encodingSuite(ctx);
