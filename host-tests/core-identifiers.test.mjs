import assert from "node:assert/strict";
import {
  findHostNameProblem, findIdScopeProblem, findRegistrationIdProblem, isHostTrusted,
} from "../firmware/core/identifiers.ts";

describe("isHostTrusted", () => {
  // host, trusted suffixes or names, expected
  const cases = [
    ["a.azure-devices.net", [".azure-devices.net"], true],
    ["example-hub.azure-devices.net", [".azure-devices.net"], true],
    ["a.b.azure-devices.net", [".azure-devices.net"], true],
    ["evil-azure-devices.net", [".azure-devices.net"], false],
    ["azure-devices.net.evil.com", [".azure-devices.net"], false],
    ["azure-devices.net", [".azure-devices.net"], false],
    [".azure-devices.net", [".azure-devices.net"], false],
    ["a.azure-devices.net.", [".azure-devices.net"], false],
    ["A.Azure-Devices.NET", [".azure-devices.net"], true],
    ["a.azure-devices.net", [".AZURE-DEVICES.NET"], true],
    ["localhost", ["localhost"], true],
    ["LOCALHOST", ["localhost"], true],
    ["a.localhost", ["localhost"], false],
    ["localhost.example.com", ["localhost"], false],
    ["127.0.0.1", ["127.0.0.1"], true],
    ["127.0.0.10", ["127.0.0.1"], false],
    ["global.azure-devices-provisioning.net", [".azure-devices.net", ".azure-devices-provisioning.net"], true],
    ["global.azure-devices-provisioning.net", [".azure-devices.net"], false],
    ["a.azure-devices.net", [], false],
  ];

  for (const [host, trusted, expected] of cases) {
    it(`${expected ? "trusts" : "rejects"} ${host} for ${trusted.join(" ") || "nothing"}`, () => {
      assert.equal(isHostTrusted(host, trusted), expected);
    });
  }
});

describe("findHostNameProblem", () => {
  it("accepts valid names", () => {
    for (const host of ["global.azure-devices-provisioning.net", "localhost", "127.0.0.1", "a-b.c", "x1",
      "a".repeat(63) + ".net"]) {
      assert.equal(findHostNameProblem(host), undefined, host);
    }
  });

  // host, expected message pattern
  const cases = [
    ["", /it is empty/],
    ["a".repeat(124) + ".net", /128 characters; Espruino accepts at most 127/],
    ["https://global.azure-devices-provisioning.net", /character 6 is not allowed.*without scheme, port or path/],
    ["localhost:8443", /character 10 is not allowed/],
    ["example.com/path", /character 12 is not allowed/],
    ["exa mple.com", /character 4 is not allowed/],
    ["under_score.net", /character 6 is not allowed/],
    ["..azure-devices.net", /two dots in a row/],
    [".a.azure-devices.net", /starts or ends with '\.'/],
    ["a.azure-devices.net.", /starts or ends with '\.'/],
    ["a..b", /two dots in a row/],
    ["-a.azure-devices.net", /label at character 1 starts or ends with '-'/],
    ["a-.azure-devices.net", /label at character 1 starts or ends with '-'/],
    ["a." + "b".repeat(64) + ".net", /label at character 3 has 64 characters; DNS allows at most 63/],
  ];

  for (const [host, pattern] of cases) {
    it(`rejects ${JSON.stringify(host.length > 40 ? host.slice(0, 40) + "..." : host)}`, () => {
      assert.match(findHostNameProblem(host) ?? "(accepted)", pattern);
    });
  }

  it("rejects a non-string", () => {
    assert.equal(findHostNameProblem(undefined), "it is empty");
  });
});

describe("findIdScopeProblem", () => {
  it("accepts letters and digits", () => {
    assert.equal(findIdScopeProblem("0ne000A1B2C"), undefined);
  });

  // ID scope, expected message pattern
  const cases = [
    ["", /it is empty/],
    ["0ne-00A1B2C", /character 4 is not a letter or a digit/],
    ["0ne000A1B2C ", /character 12/],
    ["0ne/00A1B2C", /character 4/],
  ];

  for (const [idScope, pattern] of cases) {
    it(`rejects ${JSON.stringify(idScope)}`, () => {
      assert.match(findIdScopeProblem(idScope) ?? "(accepted)", pattern);
    });
  }
});

describe("findRegistrationIdProblem", () => {
  it("accepts the DPS character set", () => {
    for (const id of ["sensor-01", "a", "A.b_c:d-", "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6", "x".repeat(128), "9"]) {
      assert.equal(findRegistrationIdProblem(id), undefined, id);
    }
  });

  // registration ID, expected message pattern
  const cases = [
    ["", /it is empty/],
    ["x".repeat(129), /129 characters; DPS allows at most 128/],
    ["sensor 01", /character 7 \(' '\) is not allowed/],
    ["sensor/01", /character 7 \('\/'\)/],
    ["sensor#01", /character 7 \('#'\)/],
    ["tab\there", /character 4 \('\\x9'\)/],
    ["caf\u00e9", /character 4 \('\\xe9'\)/],
    ["sensor.", /ends with '\.'; it must end with a letter, a digit or '-'/],
    ["sensor_", /ends with '_'/],
    ["sensor:", /ends with ':'/],
  ];

  for (const [id, pattern] of cases) {
    it(`rejects ${JSON.stringify(id.length > 20 ? id.slice(0, 20) + "..." : id)}`, () => {
      assert.match(findRegistrationIdProblem(id) ?? "(accepted)", pattern);
    });
  }
});
