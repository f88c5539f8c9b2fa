// abi.js — canonical signatures and ids from a solc ABI (shared by gen-c.js and the
// ABI test). keccak-256 comes from js-sha3, the hash solc-js itself depends on.
'use strict';
const path = require('path');
const root = path.resolve(__dirname, '..', '..', '..');
const { keccak256 } = require(path.join(root, 'node_modules', 'js-sha3'));

function canonicalType(p) {
  if (p.type.startsWith('tuple')) {
    return '(' + p.components.map(canonicalType).join(',') + ')' + p.type.slice('tuple'.length);
  }
  return p.type;
}

function signature(item) {
  return item.name + '(' + (item.inputs || []).map(canonicalType).join(',') + ')';
}

function id(item) {
  const h = keccak256(signature(item));
  return item.type === 'event' ? h : h.slice(0, 8);
}

function artifact(name) {
  return require(path.join(root, 'contracts', 'eth', 'out', name + '.sol', name + '.json'));
}

/** Every function, event and error of a contract's ABI: {kind, signature, id}. */
function items(abi) {
  return abi
    .filter((x) => x.type === 'function' || x.type === 'event' || x.type === 'error')
    .map((x) => ({ kind: x.type, signature: signature(x), id: id(x) }));
}

module.exports = { keccak256, canonicalType, signature, id, artifact, items, root };
