#!/usr/bin/env node
// The mmrace command from the compiled modules (dist/src): the package's bin is the bundle's
// dist/cli.js (scripts/bundle.mjs), which starts in a third of the time; this entry serves
// scripts and debugging that reach into dist/src.
import { cliMain } from './command.js';

await cliMain();
