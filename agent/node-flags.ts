/**
 * V8 heap flags the image runs the agent with (Dockerfile ENTRYPOINT; the benchmark
 * runs its agent processes with them too, and a test keeps the two equal).
 *
 * Left to its defaults V8 lets the old generation grow to about four times the live data
 * between full collections and keeps a 32 MB young generation, so a 10,000-guest run whose
 * live data is about 70 MB peaks near 500 MB (600 MB on a delta run) — past the Helm
 * chart's 512Mi limit. A 20% growing factor and 8 MB semi-spaces hold it near 330 MB
 * (360 MB delta) for about a third more CPU spent in the collector (measured with
 * `npm run bench`, README "Performance"). Both are long-standing V8 flags
 * (v8/src/flags/flag-definitions.h, v8/src/heap/heap-controller.cc).
 */
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=20'] as const;
