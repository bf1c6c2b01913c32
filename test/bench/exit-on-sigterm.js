// Preloaded (--import) into profiled processes: SIGTERM exits cleanly, so node --cpu-prof writes its profile (a signal death writes none).
process.once('SIGTERM', () => process.exit(0));
