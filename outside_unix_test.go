package forever_test

import "syscall"

var syscallTERM = syscall.SIGTERM
