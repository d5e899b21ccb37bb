// init_utsname()->release: which kernel this CPU is emulating (set by the era profile).
export const utsname = { release: 'unknown' };
