import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { hmacSha256 } from "../firmware/core/hmac.ts";
import { binaryToHex, hexToBinary, nodeSha256 } from "./support/node-sha256.mjs";

// RFC 4231 section 4: key, data and HMAC-SHA-256, all in hex. Case 5 is truncated to 128 bits by the RFC.
const RFC4231_CASES = [
  { name: "case 1", key: "0b".repeat(20), data: "4869205468657265",
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
  { name: "case 2", key: "4a656665", data: "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
  { name: "case 3", key: "aa".repeat(20), data: "dd".repeat(50),
    mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
  { name: "case 4", key: "0102030405060708090a0b0c0d0e0f10111213141516171819", data: "cd".repeat(50),
    mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
  { name: "case 5 (truncated)", key: "0c".repeat(20), data: "546573742057697468205472756e636174696f6e",
    mac: "a3b6167473100ee06e0c796c2955552b", truncateBytes: 16 },
  { name: "case 6", key: "aa".repeat(131),
    data: "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
  { name: "case 7", key: "aa".repeat(131),
    data: Buffer.from("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.").toString("hex"),
    mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
];

describe("hmacSha256", () => {
  for (const c of RFC4231_CASES) {
    it(`matches RFC 4231 ${c.name}`, () => {
      const mac = hmacSha256(nodeSha256, hexToBinary(c.key), hexToBinary(c.data));

      assert.equal(mac.length, 32);
      assert.equal(binaryToHex(mac).slice(0, c.mac.length), c.mac);
    });
  }

  it("handles empty key and empty message", () => {
    const expected = createHmac("sha256", Buffer.alloc(0)).update(Buffer.alloc(0)).digest("hex");

    assert.equal(binaryToHex(hmacSha256(nodeSha256, "", "")), expected);
  });

  it("keeps bytes 0x80 to 0xFF intact", () => {
    const key = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i));
    const message = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    const expected = createHmac("sha256", key).update(message).digest("hex");

    assert.equal(binaryToHex(hmacSha256(nodeSha256, key.toString("latin1"), message.toString("latin1"))), expected);
  });

  it("equals Node createHmac on 1,000 random inputs", () => {
    const lengths = [0, 1, 63, 64, 65, 128];
    let compared = 0;

    for (let i = 0; i < 1000; i++) {
      const keyLength = i < 36 ? lengths[i % 6] : Math.floor(Math.random() * 200);
      const messageLength = i < 36 ? lengths[Math.floor(i / 6)] : Math.floor(Math.random() * 300);
      const key = randomBytes(keyLength);
      const message = randomBytes(messageLength);

      const ours = binaryToHex(hmacSha256(nodeSha256, key.toString("latin1"), message.toString("latin1")));
      const node = createHmac("sha256", key).update(message).digest("hex");
      assert.equal(ours, node, `key ${key.toString("hex")} message ${message.toString("hex")}`);
      compared++;
    }
    assert.equal(compared, 1000);
  });
});
