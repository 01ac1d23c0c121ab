import { readdirSync, readFileSync } from 'node:fs';

/** The pid of this process's DynamoDB Local child (a java process running DynamoDBLocal.jar), if there is one. */
export function findDynamoDbLocalPid(parent = process.pid): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('DynamoDBLocal.jar')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** VmRSS of a process in MB (0 when it cannot be read). */
export function rssMbOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface RssPeak {
  /** Peak of the sum (this process + DynamoDB Local), sampled together. */
  peakRssMb: number;
  nodePeakRssMb: number;
  dynamodbLocalPeakRssMb: number | null;
  samples: number;
}

/** Samples this process's RSS (`process.memoryUsage().rss`) and DynamoDB Local's VmRSS every `everyMs`. */
export function sampleRss(javaPid: number | undefined, everyMs = 100): { stop(): RssPeak } {
  const peak = { sum: 0, node: 0, java: 0, samples: 0 };
  const sample = () => {
    const node = process.memoryUsage().rss / (1024 * 1024);
    const java = javaPid ? rssMbOf(javaPid) : 0;
    peak.node = Math.max(peak.node, node);
    peak.java = Math.max(peak.java, java);
    peak.sum = Math.max(peak.sum, node + java);
    peak.samples++;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const r = (x: number) => Math.round(x);
      return {
        peakRssMb: r(peak.sum),
        nodePeakRssMb: r(peak.node),
        dynamodbLocalPeakRssMb: javaPid ? r(peak.java) : null,
        samples: peak.samples,
      };
    },
  };
}
