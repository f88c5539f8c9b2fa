// devnet.js — a throwaway chain for scripts/demo-authd.sh when no devnet env
// is given: starts anvil (--silent, detached), deploys DstackKms + DstackApp
// with anvil's unlocked TEST account 0, whitelists an OS image, creates an app
// with one compose hash and one device, sets a gateway app id, whitelists a
// KMS measurement and device, and prints shell assignments (ANVIL_PID=...).
'use strict';
const { startAnvil, Chain } = require('./chain');
const crypto = require('crypto');
const sha = (s) => crypto.createHash('sha256').update(s).digest('hex');

(async () => {
  const a = await startAnvil();
  const ch = new Chain(a.url);
  await ch.init();
  const kms = await ch.deployGovernance();
  const os = sha('dstack-os-demo'), hash = sha('{"name":"demo-app"}'), dev = sha('demo-device');
  const mr = sha('demo-kms-mr'), kdev = sha('demo-kms-device');
  await ch.kmsCall('addOsImageHash(bytes32)', ['bytes32'], [os]);
  const app = await ch.createApp({ device: dev, hash });
  const gw = await ch.createApp({ allowAnyDevice: true });
  await ch.kmsCall('setGatewayAppId(string)', ['string'], [gw]);
  await ch.kmsCall('addKmsAggregatedMr(bytes32)', ['bytes32'], [mr]);
  await ch.kmsCall('addKmsDevice(bytes32)', ['bytes32'], [kdev]);
  console.log(`ANVIL_PID=${a.proc.pid}\nETH_RPC_URL=${a.url}\nKMS_CONTRACT_ADDR=${kms}\nAPP_ID=${app}\nCOMPOSE_HASH=0x${hash}\n` +
    `OS_IMAGE=0x${os}\nDEVICE_ID=${dev}\nKMS_MR=${mr}\nKMS_DEVICE=${kdev}`);
  a.proc.unref();
  process.exit(0);
})().catch((e) => { console.error('devnet: ' + e.message); process.exit(1); });
