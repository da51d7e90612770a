/*
 * proof.js -- checking Hanse's proofs in the browser, shared by the
 * explorer (app.js) and the consumer page (product.js): hex, SHA-256
 * (Web Crypto, or plain JavaScript where the page is not a secure
 * context), RFC 9162 inclusion paths, block headers (docs/FORMATS.md).
 * Loaded before them; exports window.hanseProof.
 */
'use strict';

(() => {
  function hexToBytes(hex) {
    if (typeof hex !== 'string' || hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw new Error('not a hex string');
    }
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(b) {
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }

  /* SHA-256 in plain JS, for pages that are not a secure context (plain
   * http on a LAN address), where crypto.subtle does not exist. */
  const K256 = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function sha256Js(data) {
    const ror = (x, n) => (x >>> n) | (x << (32 - n));
    const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const len = data.length;
    const buf = new Uint8Array(Math.ceil((len + 9) / 64) * 64);
    buf.set(data);
    buf[len] = 0x80;
    const dv = new DataView(buf.buffer);
    dv.setUint32(buf.length - 8, Math.floor(len / 0x20000000));
    dv.setUint32(buf.length - 4, (len * 8) >>> 0);
    const W = new Uint32Array(64);
    for (let off = 0; off < buf.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15], b = W[i - 2];
        const s0 = ror(a, 7) ^ ror(a, 18) ^ (a >>> 3);
        const s1 = ror(b, 17) ^ ror(b, 19) ^ (b >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], k = H[7];
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + W[i]) | 0;
        const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += k;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(i * 4, H[i]);
    return out;
  }

  const hasSubtle = () => !!(globalThis.crypto && crypto.subtle && typeof crypto.subtle.digest === 'function');

  async function sha256(data) {
    if (hasSubtle()) return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return sha256Js(data);
  }

  const leafHash = (leaf) => sha256(concat(Uint8Array.of(0x00), leaf));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(0x01), l, r));

  /* RFC 9162 section 2.1.3.2: verify that `leaf` (raw leaf data) is at
   * `index` of a tree of `size` leaves whose root is `root`, given the audit
   * path (leaf side first). All byte arguments are Uint8Array. */
  async function verifyInclusion(leaf, index, size, path, root) {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = await leafHash(leaf);
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(r, root);
  }

  /* The block header (docs/FORMATS.md, src/encoding/block.c):
   * u8 type=3 | u8 version | u8 chain_len | chain | u64 height | u64 time_ms |
   * 32 prev | 32 tx_root | 32 state_digest | 32 proposer | u32 tx_count | 64 sig.
   * The block hash is SHA-256 of every byte before the signature. */
  function parseHeader(bytes) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 3 || bytes[0] !== 0x03) throw new Error('not a block header');
    const cl = bytes[2];
    let o = 3 + cl;
    const need = o + 8 + 8 + 32 * 4 + 4 + 64;
    if (bytes.length !== need) throw new Error(`header is ${bytes.length} bytes, expected ${need}`);
    const u64 = (at) => dv.getUint32(at) * 0x100000000 + dv.getUint32(at + 4);
    const hdr = { chain_id: new TextDecoder().decode(bytes.subarray(3, o)) };
    hdr.height = u64(o); o += 8;
    hdr.time_ms = u64(o); o += 8;
    hdr.prev_hash = bytes.subarray(o, o + 32); o += 32;
    hdr.tx_root = bytes.subarray(o, o + 32); o += 32;
    hdr.state_digest = bytes.subarray(o, o + 32); o += 32;
    hdr.proposer = bytes.subarray(o, o + 32); o += 32;
    hdr.tx_count = dv.getUint32(o); o += 4;
    hdr.unsigned = bytes.subarray(0, o);
    hdr.sig = bytes.subarray(o);
    return hdr;
  }

  window.hanseProof = { hexToBytes, bytesToHex, concat, equalBytes, sha256, sha256Js, hasSubtle,
    verifyInclusion, parseHeader };
})();
