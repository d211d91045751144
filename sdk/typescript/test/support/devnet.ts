/**
 * The devnet the integration tests run against: the running one whose
 * `devnet.json` `BILLFLOW_DEVNET_JSON` names, else one started here with the
 * `billflow-devnet` binary (`BILLFLOW_DEVNET_BIN`, default
 * `target/debug/billflow-devnet` of the repository) in a temporary
 * directory, on free ports, and stopped at the end.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client, LedgerError, readDevnet } from '../../src/index.js';

/** A devnet for the tests. */
export interface TestDevnet {
  /** Its devnet.json. */
  path: string;
  /** Stops it if the tests started it. */
  stop(): Promise<void>;
}

// dist/test/support/devnet.js → the repository root.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the devnet's setup is done: both contracts deployed and the last demo party registered with flows. */
async function ready(path: string, deadline: number): Promise<void> {
  const d = readDevnet(path);
  const last = d.participant_keys[d.participant_keys.length - 1];
  const client = last ? Client.fromDevnet(path, { asParticipant: last.owner }) : Client.fromDevnet(path);
  // party.get's arguments are a ById { id: String } (hand-encoded: this runs before any interface is asked).
  const id = Buffer.from(last?.owner ?? '', 'utf8');
  const args = Buffer.concat([Buffer.from(Uint32Array.of(id.length).buffer), id]);
  for (;;) {
    try {
      const contracts = await client.contracts();
      if (['evidence', 'flows'].every((n) => contracts.some((c) => c.name === n))) {
        if (!last) return;
        const out = await client.queryEncoded('flows', 'party.get', new Uint8Array(args));
        if (out[0] === 1) return;
      }
    } catch (e) {
      if (!(e instanceof LedgerError) && !(e instanceof Error)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`the devnet of ${path} did not get ready`);
    await sleep(500);
  }
}

/** The devnet to test against. */
export async function useDevnet(): Promise<TestDevnet> {
  const given = process.env.BILLFLOW_DEVNET_JSON;
  if (given) {
    await ready(given, Date.now() + 180_000);
    return { path: given, stop: async () => undefined };
  }
  const bin = resolve(REPO, process.env.BILLFLOW_DEVNET_BIN ?? 'target/debug/billflow-devnet');
  if (!existsSync(bin)) throw new Error(`${bin} not found: build it, or set BILLFLOW_DEVNET_BIN or BILLFLOW_DEVNET_JSON`);
  const base = mkdtempSync(join(tmpdir(), 'billflow-ts-devnet-'));
  const dir = join(base, 'devnet');
  const child: ChildProcess = spawn(bin, ['--dir', dir, '--base-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const done = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the devnet did not get ready in 240 s:\n${output}`)), 240_000);
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/^ready:/m.test(output)) {
        clearTimeout(timer);
        resolveReady();
      } else if (/setting it up failed|^error:/m.test(output)) {
        clearTimeout(timer);
        reject(new Error(`the devnet failed:\n${output}`));
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`billflow-devnet exited (${code}):\n${output}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await done;
  } catch (e) {
    await stop();
    throw e;
  }
  return { path: join(dir, 'devnet.json'), stop };
}
