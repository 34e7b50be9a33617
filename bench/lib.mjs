// Small helpers shared by the benchmarks.
import os from "node:os";

/** Runs `fn` sequentially for about `ms` milliseconds (after a warm-up) and returns operations per second. */
export async function opsPerSecond(fn, { ms = 1000, warmup = 200 } = {}) {
  let end = performance.now() + warmup;
  while (performance.now() < end) await fn();
  let count = 0;
  const start = performance.now();
  end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) await fn();
    count += 64;
  }
  return count / ((performance.now() - start) / 1000);
}

/**
 * Runs `a` and `b` sequentially over the same items, taking turns block by block (alternating who
 * goes first); returns each one's items per second.
 */
export async function alternate(items, a, b, block = 100) {
  let timeA = 0;
  let timeB = 0;
  const run = async (fn, part) => {
    const start = performance.now();
    for (const item of part) await fn(item);
    return performance.now() - start;
  };
  for (let i = 0; i < items.length; i += block) {
    const part = items.slice(i, i + block);
    if ((i / block) % 2 === 0) {
      timeA += await run(a, part);
      timeB += await run(b, part);
    } else {
      timeB += await run(b, part);
      timeA += await run(a, part);
    }
  }
  return { a: items.length / (timeA / 1000), b: items.length / (timeB / 1000) };
}

export const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

export function table(title, headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(line(r));
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

/** A clock the benchmarks can move forward. */
export function clock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (seconds) => (offset += seconds * 1000) };
}
