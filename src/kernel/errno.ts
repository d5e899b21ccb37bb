// include/uapi/asm-generic/errno-base.h and errno.h: the error numbers mm returns (negated).
export const EPERM = 1;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EINVAL = 22;
export const ENOSYS = 38;
