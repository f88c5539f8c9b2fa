// nemu.js — test helpers for the NEAR side: start nemu-rpc (the local NEAR
// runtime EMULATION of tests/near, running the real contract wasm; not a NEAR
// node), set up a KMS and apps with its test-only nemu_* methods, and read
// views. Accounts are named *.test; no key is used.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const { rpc, TOP } = require('./chain');

const NEMU = path.join(TOP, process.env.BUILD || 'build', 'near-test', 'nemu-rpc');
const NEAR = 10n ** 24n;

function startNemu(extra = ['--block-ms', '100']) {
  return new Promise((resolve, reject) => {
    const p = spawn(NEMU, ['--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('nemu-rpc did not start')); }, 10000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(t); resolve({ proc: p, url: m[1] }); }
    });
    p.stderr.on('data', () => {});
    p.on('exit', (c) => { clearTimeout(t); reject(new Error('nemu-rpc exited ' + c)); });
  });
}

class NearWorld {
  constructor(url, kms = 'kms.test', owner = 'ops.test') {
    this.url = url;
    this.kms = kms;
    this.owner = owner;
  }
  async account(id, near = 100n) {
    return rpc(this.url, 'nemu_create_account', { account_id: id, balance: String(near * NEAR) });
  }
  // A call; throws with the panic message when it fails.
  async call(signer, receiver, method, args, deposit = '0') {
    const r = await rpc(this.url, 'nemu_call', { signer_id: signer, receiver_id: receiver, method_name: method, args, deposit });
    if (!r.status || r.status.Failure !== undefined) throw new Error(`${receiver}.${method}: ${JSON.stringify(r.status)}`);
    return r;
  }
  owned(method, args) { return this.call(this.owner, this.kms, method, args, '1'); }
  async view(account, method, args = {}, block) {
    const p = { request_type: 'call_function', account_id: account, method_name: method,
      args_base64: Buffer.from(JSON.stringify(args)).toString('base64') };
    if (block) p.block_id = block; else p.finality = 'optimistic';
    const r = await rpc(this.url, 'query', p);
    return JSON.parse(Buffer.from(r.result).toString());
  }
  async init() {
    await this.account(this.kms, 50n);
    await this.account(this.owner);
    await this.account('dev.test');
    await rpc(this.url, 'nemu_deploy', { account_id: this.kms, module: 'kms' });
    await this.call(this.kms, this.kms, 'new', { owner_id: this.owner, mpc_contract_id: 'v1.signer', mpc_domain_id: 2 });
    this.deposit = await this.view(this.kms, 'get_registration_deposit');
  }
  // Register app `hex` (40 hex) owned by dev.test; returns its account.
  async createApp(hex, { device = null, hash = null, allowAnyDevice = false, requireTcb = false } = {}) {
    await this.call('dev.test', this.kms, 'register_app', { app_id: hex, owner_id: 'dev.test', disable_upgrades: false,
      allow_any_device: allowAnyDevice, initial_device_id: device, initial_compose_hash: hash,
      require_tcb_up_to_date: requireTcb }, String(this.deposit));
    const acc = `${hex}.${this.kms}`;
    if (!(await this.view(this.kms, 'is_app_registered', { app_id: acc }))) throw new Error('register_app failed for ' + hex);
    return acc;
  }
  app(acc, method, args) { return this.call('dev.test', acc, method, args, '1'); }
  async block(finality = 'final') { return (await rpc(this.url, 'block', { finality })).header; }
}

module.exports = { startNemu, NearWorld };
