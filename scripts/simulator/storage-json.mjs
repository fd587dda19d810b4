// The compact JSON dialect of Espruino's `Storage.writeJSON`: keys that are identifiers are written without
// quotes, and characters below 0x20 or from 0x7F up are written as `\xNN`. Only `Storage.readJSON` reads it back
// on the device, because standard `JSON.parse` rejects it.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Serializes a value in Espruino's `writeJSON` dialect.
 *
 * @param {unknown} value the data; functions and `undefined` properties are dropped, typed arrays become arrays
 * @returns {string} the text
 */
export function toEspruinoJson(value) {
  if (value === null || value === undefined || typeof value === "function") {
    return "null";
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? String(value) : "null";
  }
  if (typeof value === "boolean") {
    return String(value);
  }
  if (typeof value === "string") {
    return quote(value);
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return "[" + Array.prototype.map.call(value, toEspruinoJson).join(",") + "]";
  }

  const members = [];
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member === undefined || typeof member === "function") {
      continue;
    }
    const name = IDENTIFIER.test(key) ? key : quote(key);
    members.push(name + ":" + toEspruinoJson(member));
  }
  return "{" + members.join(",") + "}";
}

function quote(text) {
  let output = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i) & 0xff;
    const character = String.fromCharCode(code);
    if (character === '"' || character === "\\") {
      output += "\\" + character;
    } else if (code === 0x0a) {
      output += "\\n";
    } else if (code === 0x0d) {
      output += "\\r";
    } else if (code === 0x09) {
      output += "\\t";
    } else if (code < 0x20 || code >= 0x7f) {
      output += "\\x" + code.toString(16).padStart(2, "0");
    } else {
      output += character;
    }
  }
  return output + '"';
}

/**
 * Parses standard JSON and Espruino's `writeJSON` dialect (unquoted identifier keys, `\xNN` escapes).
 *
 * @param {string} text the file content
 * @returns {unknown} the parsed data as host values
 * @throws {SyntaxError} naming the position of the first character that cannot be parsed
 */
export function parseEspruinoJson(text) {
  let position = 0;

  const fail = (what) => {
    throw new SyntaxError(`Invalid JSON at character ${position}: ${what}`);
  };
  const skipSpace = () => {
    while (position < text.length && " \t\r\n".includes(text[position])) {
      position++;
    }
  };
  const expect = (character) => {
    skipSpace();
    if (text[position] !== character) {
      fail(`expected "${character}"`);
    }
    position++;
  };

  const parseString = () => {
    const delimiter = text[position];
    position++;
    let output = "";
    while (position < text.length && text[position] !== delimiter) {
      let character = text[position++];
      if (character === "\\") {
        const escape = text[position++];
        const simple = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", "0": "\0" };
        if (escape in simple) {
          character = simple[escape];
        } else if (escape === "x") {
          character = String.fromCharCode(parseInt(text.slice(position, position + 2), 16));
          position += 2;
        } else if (escape === "u") {
          character = String.fromCharCode(parseInt(text.slice(position, position + 4), 16) & 0xff);
          position += 4;
        } else {
          character = escape;
        }
      }
      output += character;
    }
    if (position >= text.length) {
      fail("unterminated string");
    }
    position++;
    return output;
  };

  const parseValue = () => {
    skipSpace();
    const character = text[position];
    if (character === "{") {
      position++;
      const result = {};
      skipSpace();
      if (text[position] === "}") {
        position++;
        return result;
      }
      for (;;) {
        skipSpace();
        let key;
        if (text[position] === '"' || text[position] === "'") {
          key = parseString();
        } else {
          const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(position));
          if (match === null) {
            fail("expected a property name");
          }
          key = match[0];
          position += key.length;
        }
        expect(":");
        result[key] = parseValue();
        skipSpace();
        if (text[position] === ",") {
          position++;
          continue;
        }
        expect("}");
        return result;
      }
    }
    if (character === "[") {
      position++;
      const result = [];
      skipSpace();
      if (text[position] === "]") {
        position++;
        return result;
      }
      for (;;) {
        result.push(parseValue());
        skipSpace();
        if (text[position] === ",") {
          position++;
          continue;
        }
        expect("]");
        return result;
      }
    }
    if (character === '"' || character === "'") {
      return parseString();
    }
    const literal = /^(true|false|null|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(text.slice(position));
    if (literal === null) {
      fail("expected a value");
    }
    position += literal[0].length;
    if (literal[0] === "true") return true;
    if (literal[0] === "false") return false;
    if (literal[0] === "null") return null;
    return Number(literal[0]);
  };

  const result = parseValue();
  skipSpace();
  if (position < text.length) {
    fail("unexpected text after the value");
  }
  return result;
}
