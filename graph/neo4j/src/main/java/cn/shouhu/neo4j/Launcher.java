package cn.shouhu.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Runs Neo4j Community embedded, with its Bolt connector on loopback, for machines that have
 * Java and Maven but no Docker. Started and stopped by {@code shouhu db start|stop}.
 *
 * <p>Arguments are {@code --name value} pairs; the password comes from the environment
 * ({@code SHOUHU_NEO4J_PASSWORD}) so that it never shows in a process listing.
 */
public final class Launcher {
    private static final String LEGACY_MARKER = "shouhu-password-set";
    private static final String SETTING_PREFIX = "neo4j.";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        Path home = Path.of(require(options, "home")).toAbsolutePath();
        String password = System.getenv("SHOUHU_NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("SHOUHU_NEO4J_PASSWORD must be set and at least 8 characters long");
            System.exit(2);
        }
        Files.createDirectories(home);

        Map<String, String> config = new TreeMap<>();
        config.put("server.bolt.enabled", "true");
        config.put("server.bolt.listen_address", "127.0.0.1:" + options.getOrDefault("port", "7687"));
        config.put("server.bolt.advertised_address", "127.0.0.1:" + options.getOrDefault("port", "7687"));
        config.put("server.bolt.tls_level", "DISABLED");
        config.put("server.http.enabled", "false");
        config.put("server.https.enabled", "false");
        config.put("dbms.security.auth_enabled", "true");
        config.put("server.memory.pagecache.size", options.getOrDefault("pagecache", "512m"));
        config.put("dbms.memory.transaction.total.max", options.getOrDefault("tx-total-max", "1g"));
        config.put("db.memory.transaction.max", options.getOrDefault("tx-max", "768m"));
        config.put("db.transaction.timeout", options.getOrDefault("tx-timeout", "120s"));
        config.put("dbms.security.allow_csv_import_from_file_urls", "false");
        config.put("dbms.usage_report.enabled", "false");
        // Bulk imports write large transaction logs; recovery only needs what follows the last
        // checkpoint, so keep a bounded amount on a developer's disk.
        config.put("db.tx_log.rotation.retention_policy", "256M size");
        // Netty's defaults wait 5 s of quiet and up to 15 s per event loop on shutdown; a
        // local single-user server can let go of its connections at once.
        config.put("internal.dbms.bolt.netty_server_shutdown_quiet_period", "0");
        config.put("internal.dbms.bolt.netty_server_shutdown_timeout", "2s");
        config.put("internal.server.bolt.thread_pool_shutdown_wait_time", "2s");
        config.put("db.shutdown_transaction_end_timeout", "5s");
        // Any other Neo4j setting, as --neo4j.<setting> <value> (the test suite's planner
        // settings, graph/localdb.py): given last, so it wins over a default above.
        options.forEach((name, value) -> {
            if (name.startsWith(SETTING_PREFIX)) {
                config.put(name.substring(SETTING_PREFIX.length()), value);
            }
        });

        long started = System.nanoTime();
        // The embedded builder takes typed settings or a properties file; a file written on
        // every start keeps the effective configuration visible next to the store.
        Path conf = home.resolve("shouhu-neo4j.conf");
        StringBuilder properties = new StringBuilder("# written by the Shouhu launcher on every start\n");
        config.forEach((key, value) -> properties.append(key).append('=').append(value).append('\n'));
        Files.writeString(conf, properties.toString());
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home).loadPropertiesFromFile(conf).build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shouhu-neo4j: shutting down");
            try {
                Files.deleteIfExists(home.resolve("ready"));
            } catch (java.io.IOException e) {
                System.out.println("shouhu-neo4j: could not remove the ready file: " + e);
            }
            dbms.shutdown();
            System.out.println("shouhu-neo4j: stopped");
            stopped.countDown();
        }, "shouhu-neo4j-shutdown"));

        setInitialPassword(dbms, home, password);
        // Bolt answers before the password is set; clients wait for this file instead.
        Path ready = home.resolve("ready");
        Files.writeString(ready, Long.toString(ProcessHandle.current().pid()));
        ready.toFile().deleteOnExit();
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("shouhu-neo4j: ready on bolt://127.0.0.1:" + options.getOrDefault("port", "7687")
                + " in " + millis + " ms");
        System.out.flush();
        stopped.await();
    }

    /**
     * Sets the password once, on the first boot of a store, as neo4j-admin's set-initial-password
     * would. Whether that is still to do is read from the store itself (the {@code neo4j} user
     * of a new store must change its password), never from a file beside it: a marker kept
     * next to {@code data/} outlived a deleted store and left the new one with Neo4j's default
     * password. A restored store keeps the password it was created with.
     */
    private static void setInitialPassword(DatabaseManagementService dbms, Path home, String password) throws Exception {
        // Older launchers wrote this marker; it says nothing about the store in data/.
        Files.deleteIfExists(home.resolve(LEGACY_MARKER));
        GraphDatabaseService system = dbms.database("system");
        boolean initial = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = 'neo4j' RETURN passwordChangeRequired",
                Map.of(),
                result -> result.hasNext() && Boolean.TRUE.equals(result.next().get("passwordChangeRequired")));
        if (initial) {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }
}
