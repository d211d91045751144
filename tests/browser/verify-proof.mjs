// The explorer's proof check (explorer/verify.js) run by Node on saved files,
// for the suites that make proofs the browser test cannot (changes of voters):
//
//   node verify-proof.mjs GENESIS.json PROOF.json SHA256
//
// Prints `verified: …` and exits 0, or `refused: REASON` and exits 1.

import { readFileSync } from 'node:fs';
import { verifyEvidence, genesisHash } from '../../explorer/verify.js';

const [genesisFile, proofFile, hash] = process.argv.slice(2);
const genesis = JSON.parse(readFileSync(genesisFile, 'utf8'));
const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
try {
  const verdict = await verifyEvidence(proof, genesis, hash);
  console.log(`verified: genesis ${await genesisHash(genesis)}; ${verdict.verified.length} checks held`);
} catch (e) {
  console.log(`refused: ${e.message}`);
  process.exit(1);
}
