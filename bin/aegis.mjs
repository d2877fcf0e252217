#!/usr/bin/env node
// The `aegis` command. Runs the TypeScript CLI (src/cli/main.ts) through tsx, so no build step is
// needed first; `npm start -- --https` comes here too.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
