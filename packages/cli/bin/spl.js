#!/usr/bin/env node
// The `spl` executable: runs the TypeScript sources through tsx, as the workspace has no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
