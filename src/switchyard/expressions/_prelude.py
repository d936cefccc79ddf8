# ruff: noqa: E501  (JavaScript source kept readable)
"""JavaScript run once in every new QuickJS context, before any customer code.

`PRELUDE` makes the realm deterministic and closes the doors to code generation:
- `Date`: `Date.now()`, `new Date()` and `Date()` read a clock cell that only the
  harness sets (the run's logical time); every local-time method behaves as UTC
  whatever the host's TZ (getters/setters, `toString`, `toLocale*`, the
  component constructor `new Date(y, m, ...)`, and parsing of date-time strings
  without a zone);
- `Math.random`: mulberry32 over a 32-bit state the harness sets per evaluation;
- `eval`, `Function` and the generator/async function constructors throw;
- `performance`, `WeakRef`, `FinalizationRegistry`, `SharedArrayBuffer` and
  `Atomics` (timing and GC observation) are removed.
It leaves the harness functions in temporary globals (`__sy_*`) that the Python
side picks up; `LOCKDOWN` then deletes them and, for the long-lived expression
context, deep-freezes every intrinsic reachable from `globalThis` and from the
hidden prototypes (iterators, generators, async functions, typed arrays...).
"""

PRELUDE = r"""
(function () {
  "use strict";
  const G = globalThis;
  const define = (o, k, v) =>
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: false, configurable: true });
  const apply = Reflect.apply, construct = Reflect.construct, imul = Math.imul;
  const stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze;
  const isFrozen = Object.isFrozen, keys = Object.keys;

  /* ---- clock and PRNG cells: only the harness writes them ---- */
  const clock = { now: 0 };
  let rng = 0;
  define(Math, "random", function random() {
    rng = (rng + 0x6D2B79F5) | 0;
    let t = rng;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });

  /* ---- Date: logical time, and UTC as the only time zone ---- */
  const OrigDate = Date, P = OrigDate.prototype;
  const origParse = OrigDate.parse, origUTC = OrigDate.UTC;
  const getTime = P.getTime, origTZO = P.getTimezoneOffset;
  const origLocale = [P.toLocaleString, P.toLocaleDateString, P.toLocaleTimeString];
  const ISO_NO_ZONE = /^[+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?$/;
  const ISO_DATE_ONLY = /^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?$/;
  const HAS_ZONE = /(?:\d(?:Z|[+-]\d\d:?\d\d)\b|\b(?:GMT|UTC|UT|Z)\b)/i;
  const tzoMs = (t) => apply(origTZO, new OrigDate(t), []) * 60000;
  const parseUTC = function parse(s) {
    s = String(s).trim();
    if (ISO_NO_ZONE.test(s)) return origParse(s + "Z");
    const t = origParse(s);
    if (t !== t || ISO_DATE_ONLY.test(s) || HAS_ZONE.test(s)) return t;
    return t - tzoMs(t);
  };
  const SyDate = function Date(...args) {
    if (new.target === undefined) return apply(P.toString, new OrigDate(clock.now), []);
    let v;
    if (args.length === 0) v = [clock.now];
    else if (args.length === 1) v = typeof args[0] === "string" ? [parseUTC(args[0])] : args;
    else v = [apply(origUTC, OrigDate, args)];
    return construct(OrigDate, v, new.target);
  };
  Object.defineProperty(SyDate, "length", { value: 7 });
  Object.defineProperty(SyDate, "prototype", { value: P, writable: false });
  define(SyDate, "now", function now() { return clock.now; });
  define(SyDate, "parse", parseUTC);
  define(SyDate, "UTC", origUTC);
  define(P, "constructor", SyDate);
  for (const n of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
    define(P, "get" + n, P["getUTC" + n]);
    if (n !== "Day") define(P, "set" + n, P["setUTC" + n]);
  }
  define(P, "getTimezoneOffset", function getTimezoneOffset() {
    const t = apply(getTime, this, []);
    return t === t ? 0 : NaN;
  });
  define(P, "getYear", function getYear() { return this.getUTCFullYear() - 1900; });
  define(P, "setYear", function setYear(y) {
    y = +y;
    return this.setUTCFullYear(y >= 0 && y <= 99 && y === Math.trunc(y) ? 1900 + y : y);
  });
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n) => String(n).padStart(2, "0");
  const year = (y) => (y < 0 ? "-" + String(-y).padStart(6, "0") : String(y).padStart(4, "0"));
  const dateStr = (d) =>
    DAYS[d.getUTCDay()] + " " + MONTHS[d.getUTCMonth()] + " " + p2(d.getUTCDate()) + " " + year(d.getUTCFullYear());
  const timeStr = (d) =>
    p2(d.getUTCHours()) + ":" + p2(d.getUTCMinutes()) + ":" + p2(d.getUTCSeconds()) + " GMT+0000";
  const valid = (d) => { const t = apply(getTime, d, []); return t === t; };
  define(P, "toString", function toString() { return valid(this) ? dateStr(this) + " " + timeStr(this) : "Invalid Date"; });
  define(P, "toDateString", function toDateString() { return valid(this) ? dateStr(this) : "Invalid Date"; });
  define(P, "toTimeString", function toTimeString() { return valid(this) ? timeStr(this) : "Invalid Date"; });
  ["toLocaleString", "toLocaleDateString", "toLocaleTimeString"].forEach((name, i) => {
    const orig = origLocale[i];
    define(P, name, {
      [name]() {
        const t = apply(getTime, this, []);
        if (t !== t) return "Invalid Date";
        const shifted = new OrigDate(t);
        apply(P.setTime, shifted, [t + tzoMs(t)]);
        return apply(orig, shifted, []);
      },
    }[name]);
  });
  define(G, "Date", SyDate);

  /* ---- no code generation from strings ---- */
  const refuse = (what) => {
    const f = { [what]() { throw new EvalError(what + " is disabled in Switchyard expressions"); } }[what];
    return f;
  };
  const fakeFunction = (proto, name) => {
    const fake = refuse(name);
    Object.defineProperty(fake, "prototype", { value: proto, writable: false });
    define(proto, "constructor", fake);
    return fake;
  };
  define(G, "Function", fakeFunction(Function.prototype, "Function"));
  fakeFunction(Object.getPrototypeOf(function* () {}), "GeneratorFunction");
  fakeFunction(Object.getPrototypeOf(async function () {}), "AsyncFunction");
  fakeFunction(Object.getPrototypeOf(async function* () {}), "AsyncGeneratorFunction");
  define(G, "eval", refuse("eval"));
  for (const k of ["performance", "WeakRef", "FinalizationRegistry", "SharedArrayBuffer", "Atomics"]) delete G[k];

  /* ---- harness ---- */
  const bigintSafe = (k, v) =>
    typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v;
  const encode = (v) => {
    try {
      return stringify(v);
    } catch (e) {
      if (e instanceof TypeError && /BigInt/.test(e.message)) return stringify(v, bigintSafe);
      throw e;
    }
  };
  const toText = (v) => {
    switch (typeof v) {
      case "string": return v;
      case "undefined": case "function": case "symbol": return "";
      case "object": return v === null ? "" : (encode(v) ?? "");
      default: return String(v);
    }
  };
  const isPromise = (v) => v instanceof Promise;
  const noPromise = () => { throw new TypeError("an expression cannot return a Promise (await is not supported)"); };
  const UNDEF = freeze({});  // stands for `undefined` in argument lists from Python
  const u = (x) => (x === UNDEF ? undefined : x);
  G.__sy_undef = UNDEF;
  G.__sy_invoke = function invoke(fn, mode, now, seed, a, b, c, d, e, f, g, h) {
    clock.now = now;
    rng = seed | 0;
    const v = fn(u(a), u(b), u(c), u(d), u(e), u(f), u(g), u(h));
    if (mode === 1) return stringify(toText(isPromise(v) ? noPromise() : v));
    switch (typeof v) {
      case "number": return v === v && v !== Infinity && v !== -Infinity ? v : null;
      case "boolean": return v;
      case "string": case "bigint": return encode(v);
      case "object": return v === null ? null : isPromise(v) ? noPromise() : encode(v);
      default: return undefined;
    }
  };
  const deepFreeze = (root) => {
    const stack = [root];
    while (stack.length) {
      const o = stack.pop();
      if (o === null || typeof o !== "object" || isFrozen(o)) continue;
      freeze(o);
      for (const k of keys(o)) stack.push(o[k]);
    }
    return root;
  };
  G.__sy_data = (s) => deepFreeze(parse(s));
  G.__sy_steps = (names, ...values) => {
    const o = {};
    const ks = parse(names);
    for (let i = 0; i < ks.length; i++) o[ks[i]] = values[i];
    return freeze(o);
  };
  G.__sy_freeze = freeze;
})();
"""

# Removes the temporary harness globals; with `freeze`, deep-freezes the realm.
LOCKDOWN = r"""
(function (freezeAll) {
  "use strict";
  const G = globalThis;
  for (const k of ["__sy_invoke", "__sy_data", "__sy_steps", "__sy_freeze", "__sy_undef"]) delete G[k];
  if (!freezeAll) return;
  const anchors = [
    G,
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
    (function* () {})(),
    (async function* () {})(),
    [][Symbol.iterator](),
    new Map()[Symbol.iterator](),
    new Set()[Symbol.iterator](),
    ""[Symbol.iterator](),
    /a/[Symbol.matchAll]("a"),
    (function () { return arguments; })(),
    Object.getOwnPropertyDescriptor(Function.prototype, "caller"),
    Object.getOwnPropertyDescriptor(Function.prototype, "arguments"),
    Promise.resolve(),
    new Error(),
  ];
  if (typeof Iterator === "function") {
    anchors.push([].values().map((x) => x));
    anchors.push(Iterator.from({ next() { return { done: true }; } }));
  }
  const seen = new Set();
  const stack = anchors.slice();
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
    seen.add(o);
    stack.push(Object.getPrototypeOf(o));
    for (const k of Reflect.ownKeys(o)) {
      const d = Reflect.getOwnPropertyDescriptor(o, k);
      if (d === undefined) continue;
      if ("value" in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
    Object.freeze(o);
  }
  return seen.size;
})
"""
