// SPDX-License-Identifier: MIT
#include "core/stop.h"

const char *stop_reason_str(enum stop_reason why)
{
	switch (why) {
	case STOP_NONE:            return "running";
	case STOP_DEBUG_EXIT:      return "guest wrote the debug-exit port";
	case STOP_RESET_I8042:     return "guest reboot (i8042 reset)";
	case STOP_TRIPLE_FAULT:    return "guest reset (triple fault)";
	case STOP_SYSTEM_RESET:    return "guest reboot (ACPI reset)";
	case STOP_SYSTEM_SHUTDOWN: return "guest powered off";
	case STOP_HALT:            return "guest halted";
	case STOP_SIGNAL:          return "stopped by signal";
	case STOP_CONSOLE_ESCAPE:  return "stopped from the console (Ctrl-A x)";
	case STOP_ERROR:           return "VMM error";
	case STOP_WATCHDOG_RESET:  return "guest reset (watchdog)";
	case STOP_WATCHDOG_POWEROFF: return "guest powered off (watchdog)";
	case STOP_MIGRATED:        return "migrated to its destination";
	}
	return "unknown";
}
