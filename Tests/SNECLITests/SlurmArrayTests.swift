// The job-array recipe of docs/ensemble.md run for real: a single-node Slurm (slurmctld + slurmd
// on localhost, auth/none, state in a temporary folder, ports of its own) started by this test runs
// `sne train student --index $SLURM_ARRAY_TASK_ID` as an array and `sne train join` after it
// (--dependency=afterok); the weights equal the one-process run bit for bit. Skips with a message
// where Slurm is not installed or cannot start (Debian: apt-get install slurm-wlm).
import Foundation
import Testing
@testable import SNECLI
import SNETrain
import SNECodegen

@Suite(.serialized) struct SlurmArrayTests {
    final class Cluster {
        let dir: String, conf: String
        init(dir: String) { self.dir = dir; conf = dir + "/slurm.conf" }

        func env(_ extra: [String: String] = [:]) -> [String: String] {
            var e = ProcessInfo.processInfo.environment
            e["SLURM_CONF"] = conf
            for (k, v) in extra { e[k] = v }
            return e
        }

        /// Runs a Slurm client command; (status, stdout, stderr). (Shell.run: posix_spawn with
        /// explicit file actions, so no pipe is left open in a daemon and every read ends.)
        func client(_ argv: [String], env extra: [String: String] = [:]) throws -> (Int32, String, String) {
            let r = try Shell.run(argv, cwd: dir, env: env(extra))
            return (r.status, r.stdout, r.stderr)
        }

        /// Writes slurm.conf and starts both daemons; nil when the node is idle, else why not.
        func start() throws -> String? {
            for d in ["state", "spool"] { try FileManager.default.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true) }
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
            let port = 17000 + Int(getpid() % 1000) * 2
            try """
            ClusterName=snetest
            SlurmctldHost=\(host)(127.0.0.1)
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            AuthType=auth/none
            CredType=cred/none
            SlurmUser=\(NSUserName())
            SlurmdUser=\(NSUserName())
            StateSaveLocation=\(dir)/state
            SlurmdSpoolDir=\(dir)/spool
            SlurmctldPidFile=\(dir)/slurmctld.pid
            SlurmdPidFile=\(dir)/slurmd.pid
            SlurmctldLogFile=\(dir)/slurmctld.log
            SlurmdLogFile=\(dir)/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            MpiDefault=none
            ReturnToService=2
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            NodeName=\(host) NodeAddr=127.0.0.1 CPUs=\(ProcessInfo.processInfo.activeProcessorCount) State=UNKNOWN
            PartitionName=sne Nodes=ALL Default=YES MaxTime=INFINITE State=UP

            """.write(toFile: conf, atomically: true, encoding: .utf8)
            // Both daemonize (their pid files name them for stop()).
            for argv in [["slurmctld", "-i"], ["slurmd"]] {
                let r = try client(argv)
                if r.0 != 0 { return "\(argv[0]) did not start: \(r.2.split(separator: "\n").first ?? "exit \(r.0)")" }
            }
            for _ in 0..<60 {
                if let s = try? client(["sinfo", "-h", "-o", "%t"]), s.0 == 0, s.1.contains("idle") { return nil }
                Thread.sleep(forTimeInterval: 0.5)
            }
            let log = (try? String(contentsOfFile: dir + "/slurmctld.log", encoding: .utf8))?.split(separator: "\n").suffix(2).joined(separator: " | ") ?? ""
            return "the single-node Slurm did not come up within 30 s (\(log))"
        }

        /// Stops the two daemons this cluster started (by the pids in its own pid files).
        func stop() {
            for f in ["slurmd.pid", "slurmctld.pid"] {
                guard let t = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8), let pid = Int32(t.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                kill(pid, SIGTERM)
                for _ in 0..<50 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.1) }
            }
        }
    }

    @Test func jobArrayOfStudentsThenJoinEqualsOneProcess() throws {
        for tool in ["slurmctld", "slurmd", "sbatch", "sinfo"] where !Shell.has(tool) {
            print("skipping the Slurm job-array test: \(tool) not installed (apt-get install slurm-wlm)"); return
        }
        guard let data = TrainProcessTests.dataRoot, let sne = TrainProcessTests.binary else {
            print("skipping the Slurm job-array test: needs ../shared/data/sklearn-digits and the built sne binary"); return
        }
        let base = TrainProcessTests.tempDir("slurm")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let cluster = Cluster(dir: base)
        defer { cluster.stop() }
        if let why = try cluster.start() { print("skipping the Slurm job-array test: \(why)"); return }

        let one = base + "/one", two = base + "/two"
        try TrainProcessTests.run(["train", "teacher", "--out", one, "--data", data, "--student-epochs", "2"] + TrainProcessTests.common)
        try FileManager.default.copyItem(atPath: one, toPath: two)
        try TrainProcessTests.run(["train", "sne", "--out", one])

        // docs/ensemble.md's recipe, with this build's sne first on the PATH.
        let script = base + "/students.sh"
        try """
        #!/bin/bash
        #SBATCH --array=0-1 --cpus-per-task=1 --output=\(base)/student-%a.out
        sne train student --index $SLURM_ARRAY_TASK_ID --out \(two)

        """.write(toFile: script, atomically: true, encoding: .utf8)
        let path = (sne as NSString).deletingLastPathComponent + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let array = try cluster.client(["sbatch", "--parsable", script], env: ["PATH": path])
        try #require(array.0 == 0, "sbatch: \(array.2)")
        let id = array.1.trimmingCharacters(in: .whitespacesAndNewlines)
        let join = try cluster.client(["sbatch", "--parsable", "--wait", "--dependency=afterok:\(id)", "--output=\(base)/join.out",
                                       "--wrap", "sne train join --out \(two)"], env: ["PATH": path])
        let logs = ["student-0.out", "student-1.out", "join.out"].map { (try? String(contentsOfFile: base + "/" + $0, encoding: .utf8))?.suffix(300) ?? "" }
        try #require(join.0 == 0, "join job failed (\(join.2)); logs: \(logs)")
        for k in 0..<2 {
            #expect(try TrainProcessTests.tensors("\(one)/student-\(k).ckpt") == TrainProcessTests.tensors("\(two)/student-\(k).ckpt"), "student \(k)")
        }
        #expect(try TrainProcessTests.tensors("\(one)/model.sne") == TrainProcessTests.tensors("\(two)/model.sne"))
        print("slurm job array: 2 students as array job \(id), join after it: weights equal the one-process run")
    }
}
