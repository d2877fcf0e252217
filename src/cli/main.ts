// The `aegis` command line: argument parsing and dispatch. Subcommands live in their own modules and
// are imported only when used, so `aegis --help` stays fast.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const USAGE = `Usage: aegis <command> [options]

Commands:
  start [--port N] [--host H] [--https] [--open] [--allow-host NAME]... [--allow-origin URL]...
      Build the app if its sources changed, then serve it and the signaling server.
      --port N    port to listen on (default 8080; 0 picks a free one)
      --host H    address to bind (default 0.0.0.0: every interface, so phones on the LAN can join)
      --https     serve https/wss with a self-signed certificate (phones need it for WebCrypto)
      --open      open the app in the default browser
      --allow-host NAME   a DNS name browsers may reach this server by, besides localhost and IP
                  addresses (e.g. a hosts-file or mDNS name); others are refused (DNS rebinding)
      --allow-origin URL  a page origin, besides the server's own, that may open the signaling
                  socket (e.g. https://app.example); its host is allowed too

  sim network --nodes N --seed S [--json] [--full-mesh-max N] [--degree D]
      Run an in-memory network of N nodes, deterministically from seed S.
      --json      print the report as JSON

  sim secagg --nodes N --dim M --seed S [--inputs FILE.csv] [--dropouts STAGE:COUNT,...]
             [--clipping-range C] [--quantization-range Q] [--json]
      Run one secure-aggregation round among N in-memory nodes (real signatures and crypto),
      deterministically from seed S, and report the decoded sum, who contributed, per-stage
      times and bytes per client.
      --inputs F        row i of the CSV file is node i's input (sets N and M when omitted);
                        default: seeded random inputs within the clipping range
      --dropouts SPEC   e.g. mask:3,unmask:1: that many seeded-random nodes go silent before
                        sending their message of the stage (advertise|reveal|share|mask|consistency|
                        unmask; reveal: the graph-seed reveal of a sparse round, above 64 nodes)
      --clipping-range C  inputs are clipped to [-C, C] (default 8)
      --quantization-range Q  clipped values map to integers 0..Q (default 2^22 = 4194304); the
                        ring is Z_2^32, so N × Q must stay below 2^32 (N ≤ 1023 by default);
                        one quantization step is 2C/Q
      --json            print the report as JSON (identical for a seed, except "timesMs")

  sim audit --entries N --seed S --export FILE [--head-every K] [--json]
      Write the exported audit log of one simulated node, deterministically from seed S: entries of
      every kind (contributions, votes, receipts with quorum certificates, stake events, peer heads),
      a signed head every K entries (default 10), inclusion and consistency proofs.

  verify FILE [--json]
      Check an exported audit log offline: head signatures and chain, every entry and inclusion
      proof, roots, consistency between heads, receipts. Exit 0 if valid, 1 with the reasons if not.
      Files over 512 MiB are refused (exit 2); output cut short by its reader (| head) is no error.

  sim consensus --validators N --byzantine B --strategy equivocate|silent|conflict|fork|flood
                --heights H --seed S [--json]
      Run N validators (seeded random powers, real Ed25519) of the consensus engine in memory, B of
      them Byzantine with the strategy, until every honest node committed H heights. Reports each
      node's committed block hashes, the evidence committed and final power per validator.

  help, --help, -h
      Show this help.
`;

/** A mistake on the command line: reported with the usage and exit code 2. */
class UsageError extends Error {}

function parseIntFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be in ${min}..${max}, got ${n}`);
  return n;
}

function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS_* code. */
function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}

/** Options only, no positionals; parseArgs' mistakes become usage errors. */
function parseOptions<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  return asUsageError(() => parseArgs({ args, strict: true, allowPositionals: false, options })).values;
}

/** Every simulation takes `--seed S`, a 32-bit unsigned integer. */
function requiredSeed(value: string | undefined): number {
  return required('seed', parseIntFlag('seed', value, 0, 2 ** 32 - 1));
}

async function start(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    https: { type: 'boolean' },
    open: { type: 'boolean' },
    'allow-host': { type: 'string', multiple: true },
    'allow-origin': { type: 'string', multiple: true },
  });
  const { runStart, DEFAULT_HOST, DEFAULT_PORT } = await import('./start.ts');
  const host = values.host ?? DEFAULT_HOST;
  if (host === '') throw new UsageError('--host must not be empty');
  const allowedHosts = values['allow-host'] ?? [];
  for (const name of allowedHosts) {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || /^\.*$/.test(name)) {
      throw new UsageError(`--allow-host must be a host name (no scheme, port or path), got "${name}"`);
    }
  }
  const allowedOrigins = (values['allow-origin'] ?? []).map((value) => {
    const url = URL.canParse(value) ? new URL(value) : null;
    const isOrigin =
      url !== null &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' &&
      url.password === '' &&
      url.pathname === '/' &&
      url.search === '' &&
      url.hash === '';
    if (!isOrigin) throw new UsageError(`--allow-origin must be an origin like https://app.example or http://host:8080, got "${value}"`);
    return url.origin;
  });
  await runStart({
    port: parseIntFlag('port', values.port, 0, 65_535) ?? DEFAULT_PORT,
    host,
    https: values.https ?? false,
    open: values.open ?? false,
    allowedHosts,
    allowedOrigins,
  });
  return 0;
}

async function simNetwork(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    nodes: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    'full-mesh-max': { type: 'string' },
    degree: { type: 'string' },
  });
  const nodes = required('nodes', parseIntFlag('nodes', values.nodes, 1, 1_000_000));
  const seed = requiredSeed(values.seed);
  const fullMeshMax = parseIntFlag('full-mesh-max', values['full-mesh-max'], 1, 1_000_000);
  const degree = parseIntFlag('degree', values.degree, 1, 1_000_000);
  const { runSimNetwork } = await import('./sim-network.ts').catch((error: unknown) => {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes('sim-network.ts')) {
      throw new Error('sim network is not available in this checkout (src/cli/sim-network.ts is missing)');
    }
    throw error;
  });
  await runSimNetwork({
    nodes,
    seed,
    json: values.json ?? false,
    ...(fullMeshMax !== undefined ? { fullMeshMax } : {}),
    ...(degree !== undefined ? { degree } : {}),
  });
  return 0;
}

function parsePositiveNumberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number > 0, got "${value}"`);
  return n;
}

async function simSecagg(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    nodes: { type: 'string' },
    dim: { type: 'string' },
    seed: { type: 'string' },
    inputs: { type: 'string' },
    dropouts: { type: 'string' },
    'clipping-range': { type: 'string' },
    'quantization-range': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const nodes = parseIntFlag('nodes', values.nodes, 1, 4096);
  const dim = parseIntFlag('dim', values.dim, 1, 1 << 21);
  const seed = requiredSeed(values.seed);
  if (values.inputs === undefined) {
    required('nodes', nodes);
    required('dim', dim);
  }
  const clippingRange = parsePositiveNumberFlag('clipping-range', values['clipping-range']);
  const quantizationRange = parseIntFlag('quantization-range', values['quantization-range'], 1, 2 ** 32 - 1);
  const { runSimSecagg, parseDropouts } = await import('./sim-secagg.ts');
  let dropouts: ReturnType<typeof parseDropouts> | undefined;
  try {
    dropouts = values.dropouts === undefined ? undefined : parseDropouts(values.dropouts);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  await runSimSecagg({
    seed,
    json: values.json ?? false,
    ...(nodes !== undefined ? { nodes } : {}),
    ...(dim !== undefined ? { dim } : {}),
    ...(values.inputs !== undefined ? { inputsCsv: values.inputs } : {}),
    ...(dropouts !== undefined ? { dropouts } : {}),
    ...(clippingRange !== undefined ? { clippingRange } : {}),
    ...(quantizationRange !== undefined ? { quantizationRange } : {}),
  });
  return 0;
}

async function simConsensus(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    validators: { type: 'string' },
    byzantine: { type: 'string' },
    strategy: { type: 'string' },
    heights: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const validators = required('validators', parseIntFlag('validators', values.validators, 1, 200));
  const byzantine = parseIntFlag('byzantine', values.byzantine, 0, validators) ?? 0;
  const heights = required('heights', parseIntFlag('heights', values.heights, 1, 10_000));
  const seed = requiredSeed(values.seed);
  const { runSimConsensus } = await import('./sim-consensus.ts');
  const { BYZANTINE_STRATEGIES } = await import('../sim/consensus-sim.ts');
  const strategy = values.strategy ?? 'equivocate';
  const known = BYZANTINE_STRATEGIES.find((s) => s === strategy);
  if (known === undefined) throw new UsageError(`--strategy must be one of ${BYZANTINE_STRATEGIES.join('|')}, got "${strategy}"`);
  await runSimConsensus({ validators, byzantine, strategy: known, heights, seed, json: values.json ?? false });
  return 0;
}

async function simAudit(args: string[]): Promise<number> {
  const values = parseOptions(args, {
    entries: { type: 'string' },
    seed: { type: 'string' },
    export: { type: 'string' },
    'head-every': { type: 'string' },
    json: { type: 'boolean' },
  });
  const entries = required('entries', parseIntFlag('entries', values.entries, 0, 1_000_000));
  const seed = requiredSeed(values.seed);
  const exportPath = required('export', values.export);
  if (exportPath === '') throw new UsageError('--export must name a file');
  const headEvery = parseIntFlag('head-every', values['head-every'], 1, 1_000_000);
  const { runSimAudit } = await import('./sim-audit.ts');
  return runSimAudit({ entries, seed, exportPath, json: values.json ?? false, ...(headEvery !== undefined ? { headEvery } : {}) });
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = asUsageError(() =>
    parseArgs({ args, strict: true, allowPositionals: true, options: { json: { type: 'boolean' } } }),
  );
  if (positionals.length !== 1) throw new UsageError('verify: give exactly one FILE');
  const file = positionals[0] as string;
  const { existsSync, statSync } = await import('node:fs');
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`verify: no such file "${file}"`);
  const { verifyFileSizeError } = await import('./verify-limit.ts');
  const tooLarge = verifyFileSizeError(file, statSync(file).size);
  if (tooLarge !== null) throw new UsageError(tooLarge);
  (await import('./stdout-pipe.ts')).quietOnClosedPipe(process.stdout);
  const { runVerify } = await import('./verify.ts');
  return runVerify({ file, json: values.json ?? false });
}

/** Runs the CLI; resolves to the exit code (a running server keeps the process alive after it). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      case 'start':
        return await start(rest);
      case 'verify':
        return await verify(rest);
      case 'sim': {
        const [sub, ...simArgs] = rest;
        if (sub === 'network') return await simNetwork(simArgs);
        if (sub === 'secagg') return await simSecagg(simArgs);
        if (sub === 'consensus') return await simConsensus(simArgs);
        if (sub === 'audit') return await simAudit(simArgs);
        throw new UsageError(sub === undefined ? 'sim: missing subcommand' : `sim: unknown subcommand "${sub}"`);
      }
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`aegis: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') process.stderr.write(`aegis: the address is already in use (try another --port)\n`);
    else if (e.code === 'EACCES') process.stderr.write(`aegis: no permission to listen there (ports < 1024 need privileges)\n`);
    else if (e instanceof Error) {
      process.stderr.write(`aegis: ${process.env['AEGIS_DEBUG'] ? (e.stack ?? e.message) : e.message}\n`);
    } else process.stderr.write(`aegis: ${String(e)}\n`);
    return 1;
  }
}
