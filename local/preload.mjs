// Loaded before anything else by `npm start`, `npm run …` and the CDK app: TypeScript via tsx, and the one
// Node 20 gap that aws-local-stepfunctions (written for Node 22) trips on.
import './polyfills.mjs';

// This tooling runs on Node 20 and 22+; the SDK's notice about Node 20 is not news to its users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { register } from 'tsx/esm/api';

register();
