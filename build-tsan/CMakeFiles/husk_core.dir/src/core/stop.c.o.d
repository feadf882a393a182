CMakeFiles/husk_core.dir/src/core/stop.c.o: /work/main/src/core/stop.c \
 /usr/include/stdc-predef.h /work/main/src/core/stop.h
