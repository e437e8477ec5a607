package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A real {@code virsh save} against QEMU's own dump of the same paused guest. The test starts Debian's libvirt
 * daemon privately: {@code libvirtd} in session mode ({@code qemu:///session}) with its own XDG config, runtime
 * (socket), cache and data directories under one temporary directory; as root it runs as {@code nobody} through
 * {@code setpriv}, since a root libvirtd is always the system daemon. The domain is the amd64 interop guest
 * (TCG, 512 MiB, 2 vCPUs, {@code -device vmcoreinfo}, no VGA, kernel, initramfs and command line in the domain XML,
 * serial console to a file). Once the guest prints GUESTDUMP-READY: {@code virsh suspend}, {@code virsh dump --memory-only}
 * (QEMU's dump-guest-memory: the oracle), {@code virsh save} with {@code save_image_format = "raw"}; then, for each
 * compressed format, the daemon is restarted with that {@code save_image_format}, the raw image restored paused
 * ({@code virsh restore --paused}: the same memory and registers, the guest never runs) and saved again. Each image
 * is re-dumped by guestdump (the raw one as a bare path, recognised by content) and compared with QEMU's dump as
 * {@link SaveStateIT} does: PT_NOTE byte for byte (registers and VMCOREINFO) and every guest-physical byte. A
 * truncated compressed image exits 2. The domain is always destroyed and the daemon stopped.
 *
 * <p>{@code GUESTDUMP_LIBVIRT_FORMATS} lists the compressed formats (default {@code gzip lzop}; bzip2 and xz work
 * too but take minutes for this guest under TCG load: {@code xz -c} of its 120 MiB stream took 6 minutes here).
 * Skipped when libvirtd, virsh, QEMU or the kernel is absent, unless {@code GUESTDUMP_REQUIRE_QEMU=1}.
 */
class LibvirtSaveIT {
    private static final String DOMAIN = "guestdump-virsh";
    private static final String LIBVIRTD = "/usr/sbin/libvirtd";

    private Path dir;
    private final List<String> asUser = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Process daemon;

    @Test
    void virshSaveImagesRedumpLikeQemusOwnDump() throws Exception {
        QemuInteropIT.Guest g = QemuInteropIT.GUESTS.get("amd64");
        boolean required = "1".equals(System.getenv("GUESTDUMP_REQUIRE_QEMU"));
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"), "qemu", g.arch());
        boolean root = "0".equals(uid());
        boolean ready = Files.isRegularFile(cache.resolve("vmlinuz")) && Files.isExecutable(Path.of(LIBVIRTD))
                && onPath("virsh") && onPath(g.qemu()) && (!root || onPath("setpriv"));
        String why = "skipped: needs " + LIBVIRTD + " and virsh (Debian: libvirt-daemon libvirt-daemon-driver-qemu "
                + "libvirt-clients), " + g.qemu() + ", setpriv when root, and " + cache + "/{vmlinuz,initrd.cpio.gz}";
        if (required) {
            assertTrue(ready, why.replace("skipped: ", "GUESTDUMP_REQUIRE_QEMU=1 but the test "));
        }
        assumeTrue(ready, why);
        List<String> formats = List.of(System.getenv().getOrDefault("GUESTDUMP_LIBVIRT_FORMATS", "gzip lzop").trim()
                .split("[ ,]+"));

        dir = Files.createTempDirectory("guestdump-libvirt-");
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (String d : List.of("config/libvirt", "run", "cache", "data", "home")) {
                Files.createDirectories(dir.resolve(d));
            }
            Files.setPosixFilePermissions(dir.resolve("run"), PosixFilePermissions.fromString("rwx------"));
            Files.copy(cache.resolve("vmlinuz"), dir.resolve("vmlinuz"));
            Files.copy(cache.resolve("initrd.cpio.gz"), dir.resolve("initrd.cpio.gz"));
            Files.writeString(dir.resolve("domain.xml"), domainXml(g));
            // only errors on stderr; QEMU's stdio to a file, not to virtlogd (which a session would have to spawn)
            Files.writeString(dir.resolve("config/libvirt/libvirtd.conf"), "log_outputs = \"3:stderr\"\n");
            if (root) {
                asUser.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
                exec(List.of("chown", "-R", "65534:65534", dir.toString()));
            }
            env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            env.put("HOME", dir.resolve("home").toString());
            env.put("XDG_CONFIG_HOME", dir.resolve("config").toString());
            env.put("XDG_RUNTIME_DIR", dir.resolve("run").toString());
            env.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
            env.put("XDG_DATA_HOME", dir.resolve("data").toString());
            run(g, formats);
        } finally {
            try {
                if (daemon != null && daemon.isAlive()) {
                    virsh(false, "destroy", DOMAIN);
                }
            } finally {
                stopDaemon();
                killLeftoverQemu();
                deleteTree(dir);
            }
        }
    }

    private void run(QemuInteropIT.Guest g, List<String> formats) throws Exception {
        Path serial = dir.resolve("serial.log");
        Path qemuElf = dir.resolve("qemu.elf");
        Map<String, Path> images = new LinkedHashMap<>();
        startDaemon("raw");
        virsh(true, "create", dir.resolve("domain.xml").toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!(Files.exists(serial) && Files.readString(serial).contains("GUESTDUMP-READY"))) {
            assertTrue(System.nanoTime() < deadline, "the guest's ready marker in " + serial + "; the domain log: "
                    + log());
            Thread.sleep(500);
        }
        virsh(true, "suspend", DOMAIN);
        virsh(true, "dump", "--memory-only", DOMAIN, qemuElf.toString());
        Path raw = dir.resolve("raw.save");
        long t0 = System.nanoTime();
        virsh(true, "save", DOMAIN, raw.toString());
        System.out.printf("libvirt: virsh save (raw) %.1f s, %d bytes%n", (System.nanoTime() - t0) / 1e9,
                Files.size(raw));
        images.put("raw", raw);
        for (String f : formats) {
            stopDaemon();
            startDaemon(f);
            virsh(true, "restore", raw.toString(), "--paused");
            Path image = dir.resolve(f + ".save");
            t0 = System.nanoTime();
            virsh(true, "save", DOMAIN, image.toString());
            System.out.printf("libvirt: virsh save (%s) %.1f s, %d bytes%n", f, (System.nanoTime() - t0) / 1e9,
                    Files.size(image));
            images.put(f, image);
        }
        stopDaemon();

        Map<String, Integer> wire = Map.of("raw", 0, "gzip", 1, "bzip2", 2, "xz", 3, "lzop", 4, "zstd", 5);
        for (Map.Entry<String, Path> e : images.entrySet()) {
            Path image = e.getValue();
            assertEquals(wire.get(e.getKey()), headerFormat(image), image + ": virQEMUSaveHeader's compressed field");
            Path ours = dir.resolve(e.getKey() + ".elf");
            String source = e.getKey().equals("raw") ? image.toString() : "savestate:" + image;
            t0 = System.nanoTime();
            Dist.Run r = Dist.guestdump(dir, "dump", source, "-o", ours.toString()).expect(0);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue((r.out() + r.err()).contains("savestate:"), r.out() + r.err());
            assertTrue((r.out() + r.err()).contains("the stream's vmcoreinfo device"), r.out() + r.err());
            String compared = SaveStateIT.compare(g, dir, qemuElf, ours);
            System.out.printf("libvirt %s image: %s; guestdump %.2f s (JVM start included), image %d bytes%n",
                    e.getKey(), compared, secs, Files.size(image));
            Files.delete(ours);
        }

        for (String f : formats) {
            Path image = images.get(f);
            Path cut = dir.resolve("cut-" + f + ".save");
            try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ);
                    FileChannel out = FileChannel.open(cut, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                in.transferTo(0, Files.size(image) / 2, out);
            }
            Dist.Run bad = Dist.guestdump(dir, "dump", cut.toString(), "-o", dir.resolve("cut.elf").toString());
            assertEquals(2, bad.exit(), bad.err());
            assertTrue(bad.err().contains(f + "-compressed QEMU stream"), bad.err());
            Files.delete(cut);
        }
    }

    /**
     * The interop guest as a libvirt domain: TCG, the same CPU model, ACPI (the fw_cfg driver needs it), headless
     * (no {@code <video>}: libvirt's -nodefaults leaves no VGA device, so QEMU shows pc.ram in the legacy VGA window,
     * which guestdump's layout must then place too; {@link SaveStateIT}'s guests have QEMU's default VGA).
     */
    private String domainXml(QemuInteropIT.Guest g) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>512</memory>
                  <vcpu>2</vcpu>
                  <os>
                    <type arch='x86_64' machine='pc'>hvm</type>
                    <kernel>%s</kernel>
                    <initrd>%s</initrd>
                    <cmdline>console=%s panic=0</cmdline>
                  </os>
                  <features><acpi/><apic/><vmcoreinfo state='on'/></features>
                  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
                  <on_poweroff>destroy</on_poweroff>
                  <on_reboot>destroy</on_reboot>
                  <on_crash>destroy</on_crash>
                  <devices>
                    <emulator>/usr/bin/%s</emulator>
                    <serial type='file'><source path='%s'/><target port='0'/></serial>
                    <controller type='usb' model='none'/>
                    <memballoon model='none'/>
                  </devices>
                </domain>
                """.formatted(DOMAIN, dir.resolve("vmlinuz"), dir.resolve("initrd.cpio.gz"), g.console(), g.qemu(),
                dir.resolve("serial.log"));
    }

    private void startDaemon(String format) throws Exception {
        Path conf = dir.resolve("config/libvirt/qemu.conf");
        Files.writeString(conf, "stdio_handler = \"file\"\nsave_image_format = \"" + format + "\"\n");
        if (!asUser.isEmpty()) {
            exec(List.of("chown", "-R", "65534:65534", dir.resolve("config").toString()));
        }
        List<String> cmd = new ArrayList<>(asUser);
        cmd.add("env");
        cmd.add("-i");
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.add(LIBVIRTD);
        daemon = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("libvirtd.log").toFile())).start();
        Path sock = dir.resolve("run/libvirt/libvirt-sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(sock) || virsh(false, "version").exit() != 0) {
            assertTrue(daemon.isAlive() && System.nanoTime() < deadline, "libvirtd (session) did not come up: "
                    + Files.readString(dir.resolve("libvirtd.log")));
            Thread.sleep(300);
        }
    }

    private void stopDaemon() throws InterruptedException {
        if (daemon == null) {
            return;
        }
        daemon.destroy(); // SIGTERM: libvirtd shuts down cleanly, removing its socket and pid file
        if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
        daemon = null;
    }

    /** A QEMU the session left behind (a failed destroy): killed by the pid libvirt recorded for it. */
    private void killLeftoverQemu() throws IOException {
        Path pid = dir.resolve("run/libvirt/qemu/run/" + DOMAIN + ".pid");
        if (Files.isRegularFile(pid)) {
            long p = Long.parseLong(Files.readString(pid).trim());
            ProcessHandle.of(p).ifPresent(h -> {
                if (h.info().command().orElse("").contains("qemu")) {
                    h.destroyForcibly();
                }
            });
        }
    }

    private Dist.Run virsh(boolean check, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(asUser);
        cmd.add("env");
        cmd.add("-i");
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of("virsh", "-c", "qemu:///session"));
        cmd.addAll(List.of(args));
        Dist.Run r = Dist.run(dir, Map.of(), cmd);
        if (check) {
            assertEquals(0, r.exit(), "virsh " + String.join(" ", args) + ": " + r.out() + r.err() + "\nlibvirtd: "
                    + Files.readString(dir.resolve("libvirtd.log")) + "\ndomain log: " + log());
        }
        return r;
    }

    private String log() throws IOException {
        Path p = dir.resolve("cache/libvirt/qemu/log/" + DOMAIN + ".log");
        return Files.exists(p) ? Files.readString(p) : "(none)";
    }

    /** {@code virQEMUSaveHeader.compressed}, little-endian (this host wrote it). */
    private static int headerFormat(Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 0);
            return b.getInt(28);
        }
    }

    private static void exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }

    private static String uid() {
        try {
            return Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "-1";
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }
}
