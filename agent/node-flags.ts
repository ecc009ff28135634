/**
 * V8 heap flags the image runs the agent with (Dockerfile ENTRYPOINT; the benchmark
 * runs its agent processes with them too, and the container test checks the image).
 *
 * Left to its defaults V8 lets the old generation grow to several times the live data
 * between full collections, so a 10,000-guest run whose live data is 70–150 MB peaks
 * above 500 MB (570 MB on a delta run): past the Helm chart's 512Mi limit. Growing the
 * heap by 30% at most holds it near 300 MB (delta runs too) for about a quarter more CPU,
 * which the collector, waiting on the API most of the time, has to spare
 * (measured with `npm run bench`; README "Performance"). A 20% factor saves 20 MB more
 * but costs half again as much CPU, worse at 50,000 guests. Both flags are long-standing
 * V8 flags (v8/src/flags/flag-definitions.h, v8/src/heap/heap-controller.cc).
 */
export const NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=30'] as const;
