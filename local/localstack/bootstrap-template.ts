import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../infra/constructs/offboard-function.js';

type Template = { Resources: Record<string, any>; Outputs?: Record<string, any> };

/**
 * CDK's bootstrap template without its ECR repository (container assets). ECR is not in LocalStack's free tier, and
 * with CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0 the unchanged template fails to bootstrap there; this stack has file
 * assets only. Every policy statement and output that names the repository goes with it; anything else that still
 * does is an error, not a silent leftover.
 */
export function withoutContainerAssets(template: Template): Template {
  const out: Template = structuredClone(template);
  const repos = Object.keys(out.Resources).filter((id) => out.Resources[id].Type === 'AWS::ECR::Repository');
  const names = (v: unknown) => {
    const text = JSON.stringify(v);
    return repos.some(
      (id) =>
        text.includes(`"Ref":"${id}"`) ||
        text.includes(`\${${id}}`) ||
        text.includes(`\${${id}.`) ||
        text.includes(`"Fn::GetAtt":["${id}"`),
    );
  };
  for (const id of repos) delete out.Resources[id];
  for (const r of Object.values(out.Resources)) {
    const documents = [r.Properties?.PolicyDocument, ...(r.Properties?.Policies ?? []).map((p: any) => p.PolicyDocument)].filter(Boolean);
    for (const doc of documents) doc.Statement = doc.Statement.filter((s: unknown) => !names(s));
  }
  for (const [key, o] of Object.entries(out.Outputs ?? {})) if (names(o)) delete out.Outputs![key];
  const left = Object.entries(out.Resources)
    .filter(([, r]) => names(r))
    .map(([id]) => id);
  if (left.length) throw new Error(`the bootstrap template still names its ECR repository in ${left.join(', ')}`);
  return out;
}

/** CDK's own bootstrap template (`cdk bootstrap --show-template`), for the CLI version installed. */
export async function cdkBootstrapTemplate(): Promise<Template> {
  const { stdout } = await promisify(execFile)(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk'), ['bootstrap', '--show-template'], {
    cwd: REPO_ROOT,
    maxBuffer: 16 << 20,
  });
  return parse(stdout) as Template;
}

/** Writes the free-tier bootstrap template to a file for `cdklocal bootstrap --template`. */
export async function writeFreeTierBootstrapTemplate(): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'offboard-bootstrap-')), 'bootstrap-template.yaml');
  writeFileSync(file, stringify(withoutContainerAssets(await cdkBootstrapTemplate())));
  return file;
}
