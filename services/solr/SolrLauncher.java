import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Real Solr for Sen's tests and developers, run from Maven Central's jars in Java's
 * single-file source mode (services/solr/up and services/solr/cloud resolve the class path).
 * Solr's release archive cannot be downloaded here; its test framework starts the same
 * server (JettySolrRunner) and a whole SolrCloud with ZooKeeper (MiniSolrCloudCluster).
 *
 * <pre>
 *   standalone PORT SOLR_HOME            one node on 127.0.0.1:PORT, cores found in SOLR_HOME
 *   cloud NODES BASEDIR CONFIGSET_DIR    NODES nodes on free ports, the configset uploaded
 *                                        as "sen"; then commands on stdin:
 *                                        stop N | start N | exit
 * </pre>
 *
 * Stdout carries only this protocol ("ZK host:port/solr" in cloud mode, "NODE i URL",
 * "READY", then "OK ..." or "ERROR ..." for each command), so a test can drive the
 * cluster; everything Solr and ZooKeeper print goes to stderr.
 */
public class SolrLauncher {
  public static void main(String[] args) throws Exception {
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    if (args.length == 3 && args[0].equals("standalone")) {
      standalone(out, Integer.parseInt(args[1]), Path.of(args[2]));
    } else if (args.length == 4 && args[0].equals("cloud")) {
      cloud(out, Integer.parseInt(args[1]), Path.of(args[2]), Path.of(args[3]));
    } else {
      System.err.println(
          "usage: SolrLauncher standalone PORT SOLR_HOME | cloud NODES BASEDIR CONFIGSET_DIR");
      System.exit(2);
    }
  }

  /** One node until the process is terminated; Jetty then closes the cores cleanly. */
  static void standalone(PrintStream out, int port, Path home) throws Exception {
    JettyConfig config =
        JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).build();
    JettySolrRunner node = new JettySolrRunner(home.toString(), new Properties(), config);
    node.start();
    out.println("NODE 0 " + node.getBaseUrl());
    out.println("READY");
    Thread.currentThread().join();
  }

  /** A SolrCloud whose nodes a test stops and restarts; it ends with stdin or "exit". */
  static void cloud(PrintStream out, int nodes, Path base, Path configset) throws Exception {
    // Node-to-node (PKI) keys are generated at start, as Solr's own benchmarks do.
    System.setProperty("pkiHandlerPrivateKeyPath", "");
    System.setProperty("pkiHandlerPublicKeyPath", "");
    MiniSolrCloudCluster cluster =
        new MiniSolrCloudCluster.Builder(nodes, base).addConfig("sen", configset).configure();
    AtomicBoolean down = new AtomicBoolean();
    Runnable shutdown =
        () -> {
          if (down.compareAndSet(false, true)) {
            try {
              cluster.shutdown();
            } catch (Exception e) {
              e.printStackTrace();
            }
          }
        };
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown));
    // Our own list: the cluster's shrinks when a node stops, and indexes must not move.
    List<JettySolrRunner> jetties = new ArrayList<>(cluster.getJettySolrRunners());
    out.println("ZK " + cluster.getZkServer().getZkAddress());
    for (int i = 0; i < jetties.size(); i++) {
      out.println("NODE " + i + " " + jetties.get(i).getBaseUrl());
    }
    out.println("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split("\\s+");
      try {
        if (words[0].equals("exit")) {
          break;
        } else if (words.length == 2 && words[0].equals("stop")) {
          JettySolrRunner node = jetties.get(Integer.parseInt(words[1]));
          node.stop();
          cluster.waitForJettyToStop(node);
          out.println("OK stop " + words[1]);
        } else if (words.length == 2 && words[0].equals("start")) {
          JettySolrRunner node = jetties.get(Integer.parseInt(words[1]));
          node.start();
          cluster.waitForNode(node, 60);
          out.println("OK start " + words[1] + " " + node.getBaseUrl());
        } else if (!line.isBlank()) {
          out.println("ERROR unknown command: " + line.trim() + " (stop N, start N, exit)");
        }
      } catch (Exception e) {
        e.printStackTrace();
        out.println("ERROR " + line.trim() + ": " + e);
      }
    }
    shutdown.run();
    out.println("OK exit");
    System.exit(0);
  }
}
