
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/boot/acpi.c" "CMakeFiles/husk_core.dir/src/boot/acpi.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/acpi.c.o.d"
  "/work/main/src/boot/acpi_dsdt.c" "CMakeFiles/husk_core.dir/src/boot/acpi_dsdt.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/acpi_dsdt.c.o.d"
  "/work/main/src/boot/aml.c" "CMakeFiles/husk_core.dir/src/boot/aml.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/aml.c.o.d"
  "/work/main/src/boot/boot.c" "CMakeFiles/husk_core.dir/src/boot/boot.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/boot.c.o.d"
  "/work/main/src/boot/bzimage.c" "CMakeFiles/husk_core.dir/src/boot/bzimage.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/bzimage.c.o.d"
  "/work/main/src/boot/cpu_tables.c" "CMakeFiles/husk_core.dir/src/boot/cpu_tables.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/cpu_tables.c.o.d"
  "/work/main/src/boot/e820.c" "CMakeFiles/husk_core.dir/src/boot/e820.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/e820.c.o.d"
  "/work/main/src/boot/elf.c" "CMakeFiles/husk_core.dir/src/boot/elf.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/elf.c.o.d"
  "/work/main/src/boot/mptable.c" "CMakeFiles/husk_core.dir/src/boot/mptable.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/mptable.c.o.d"
  "/work/main/src/boot/pvh.c" "CMakeFiles/husk_core.dir/src/boot/pvh.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/pvh.c.o.d"
  "/work/main/src/boot/util.c" "CMakeFiles/husk_core.dir/src/boot/util.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/util.c.o.d"
  "/work/main/src/boot/zeropage.c" "CMakeFiles/husk_core.dir/src/boot/zeropage.c.o" "gcc" "CMakeFiles/husk_core.dir/src/boot/zeropage.c.o.d"
  "/work/main/src/core/log.c" "CMakeFiles/husk_core.dir/src/core/log.c.o" "gcc" "CMakeFiles/husk_core.dir/src/core/log.c.o.d"
  "/work/main/src/core/stop.c" "CMakeFiles/husk_core.dir/src/core/stop.c.o" "gcc" "CMakeFiles/husk_core.dir/src/core/stop.c.o.d"
  "/work/main/src/cpu/cpuid.c" "CMakeFiles/husk_core.dir/src/cpu/cpuid.c.o" "gcc" "CMakeFiles/husk_core.dir/src/cpu/cpuid.c.o.d"
  "/work/main/src/cpu/msr.c" "CMakeFiles/husk_core.dir/src/cpu/msr.c.o" "gcc" "CMakeFiles/husk_core.dir/src/cpu/msr.c.o.d"
  "/work/main/src/cpu/regs.c" "CMakeFiles/husk_core.dir/src/cpu/regs.c.o" "gcc" "CMakeFiles/husk_core.dir/src/cpu/regs.c.o.d"
  "/work/main/src/cpu/vcpu.c" "CMakeFiles/husk_core.dir/src/cpu/vcpu.c.o" "gcc" "CMakeFiles/husk_core.dir/src/cpu/vcpu.c.o.d"
  "/work/main/src/devices/acpi_ged.c" "CMakeFiles/husk_core.dir/src/devices/acpi_ged.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/acpi_ged.c.o.d"
  "/work/main/src/devices/acpi_pm.c" "CMakeFiles/husk_core.dir/src/devices/acpi_pm.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/acpi_pm.c.o.d"
  "/work/main/src/devices/console.c" "CMakeFiles/husk_core.dir/src/devices/console.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/console.c.o.d"
  "/work/main/src/devices/debug_ports.c" "CMakeFiles/husk_core.dir/src/devices/debug_ports.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/debug_ports.c.o.d"
  "/work/main/src/devices/i8042.c" "CMakeFiles/husk_core.dir/src/devices/i8042.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/i8042.c.o.d"
  "/work/main/src/devices/iobus.c" "CMakeFiles/husk_core.dir/src/devices/iobus.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/iobus.c.o.d"
  "/work/main/src/devices/irq.c" "CMakeFiles/husk_core.dir/src/devices/irq.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/irq.c.o.d"
  "/work/main/src/devices/irq_routing.c" "CMakeFiles/husk_core.dir/src/devices/irq_routing.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/irq_routing.c.o.d"
  "/work/main/src/devices/msix.c" "CMakeFiles/husk_core.dir/src/devices/msix.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/msix.c.o.d"
  "/work/main/src/devices/pci.c" "CMakeFiles/husk_core.dir/src/devices/pci.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/pci.c.o.d"
  "/work/main/src/devices/pci_bar.c" "CMakeFiles/husk_core.dir/src/devices/pci_bar.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/pci_bar.c.o.d"
  "/work/main/src/devices/pci_cfg.c" "CMakeFiles/husk_core.dir/src/devices/pci_cfg.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/pci_cfg.c.o.d"
  "/work/main/src/devices/rtc.c" "CMakeFiles/husk_core.dir/src/devices/rtc.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/rtc.c.o.d"
  "/work/main/src/devices/serial.c" "CMakeFiles/husk_core.dir/src/devices/serial.c.o" "gcc" "CMakeFiles/husk_core.dir/src/devices/serial.c.o.d"
  "/work/main/src/memory/guest_mem.c" "CMakeFiles/husk_core.dir/src/memory/guest_mem.c.o" "gcc" "CMakeFiles/husk_core.dir/src/memory/guest_mem.c.o.d"
  "/work/main/src/virtio/virtio_blk_req.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_blk_req.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_blk_req.c.o.d"
  "/work/main/src/virtio/virtio_dev.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_dev.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_dev.c.o.d"
  "/work/main/src/virtio/virtio_mmio.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_mmio.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_mmio.c.o.d"
  "/work/main/src/virtio/virtio_pci.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_pci.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_pci.c.o.d"
  "/work/main/src/virtio/virtio_rng.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_rng.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_rng.c.o.d"
  "/work/main/src/virtio/virtio_transport.c" "CMakeFiles/husk_core.dir/src/virtio/virtio_transport.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtio_transport.c.o.d"
  "/work/main/src/virtio/virtqueue.c" "CMakeFiles/husk_core.dir/src/virtio/virtqueue.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/virtqueue.c.o.d"
  "/work/main/src/virtio/worker.c" "CMakeFiles/husk_core.dir/src/virtio/worker.c.o" "gcc" "CMakeFiles/husk_core.dir/src/virtio/worker.c.o.d"
  "/work/main/src/vmm/cli.c" "CMakeFiles/husk_core.dir/src/vmm/cli.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/cli.c.o.d"
  "/work/main/src/vmm/config.c" "CMakeFiles/husk_core.dir/src/vmm/config.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/config.c.o.d"
  "/work/main/src/vmm/devargs.c" "CMakeFiles/husk_core.dir/src/vmm/devargs.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/devargs.c.o.d"
  "/work/main/src/vmm/eventloop.c" "CMakeFiles/husk_core.dir/src/vmm/eventloop.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/eventloop.c.o.d"
  "/work/main/src/vmm/kvm.c" "CMakeFiles/husk_core.dir/src/vmm/kvm.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/kvm.c.o.d"
  "/work/main/src/vmm/vm.c" "CMakeFiles/husk_core.dir/src/vmm/vm.c.o" "gcc" "CMakeFiles/husk_core.dir/src/vmm/vm.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
