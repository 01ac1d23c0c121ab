// Loaded before anything else by `npm start`, `npm run …` and the CDK app: TypeScript via tsx, and the one
// Node 20 gap that aws-local-stepfunctions (written for Node 22) trips on.
import './polyfills.mjs';
import { register } from 'tsx/esm/api';

register();
