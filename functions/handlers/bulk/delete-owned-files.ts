import { handlers } from './steps.js';

export const handler = handlers.DeleteOwnedFiles;
