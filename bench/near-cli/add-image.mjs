// add-image.mjs — the near-api-js side of bench/near-cli: one add_os_image_hash
// (1 yoctoNEAR, 100 TGas, waitUntil FINAL) with near-api-js's Account, as a
// script run once per call, like the CLI. Reads NEAR_RPC_URL, NEAR_ACCOUNT_ID,
// NEAR_PRIVATE_KEY (the devnet's public TEST key) and KMS_CONTRACT_ID.
// Usage: node add-image.mjs <64 hex>
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner } from "near-api-js";

const env = process.env;
const provider = new JsonRpcProvider({ url: env.NEAR_RPC_URL });
const account = new Account(env.NEAR_ACCOUNT_ID, provider,
  new KeyPairSigner(KeyPair.fromString(env.NEAR_PRIVATE_KEY)));
const r = await account.callFunctionRaw({
  contractId: env.KMS_CONTRACT_ID, methodName: "add_os_image_hash",
  args: { os_image_hash: process.argv[2] }, deposit: 1n, gas: 100n * 10n ** 12n, waitUntil: "FINAL",
});
if (!r?.status || r.status.Failure) { console.error(JSON.stringify(r?.status)); process.exit(1); }
console.log(r.transaction.hash);
