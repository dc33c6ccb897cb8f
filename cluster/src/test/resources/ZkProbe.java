import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * A plain ZooKeeper client, run as another user by StoreAccessIT:
 * ZkProbe HOST:PORT PATH[,PATH...] [USER:SECRET]. Prints its state, then READ, DENIED or MISSING
 * per path once connected. TLS comes from ZooKeeper's {@code zookeeper.ssl.*} system properties.
 */
public class ZkProbe {
    public static void main(String[] args) throws Exception {
        ZooKeeper zk = new ZooKeeper(args[0], 10_000, event -> { });
        for (int i = 0; i < 100 && zk.getState() != ZooKeeper.States.CONNECTED; i++) {
            Thread.sleep(100);
        }
        System.out.println("STATE " + zk.getState());
        if (zk.getState() != ZooKeeper.States.CONNECTED) {
            zk.close();
            return;
        }
        if (args.length > 2) {
            zk.addAuthInfo("digest", args[2].getBytes(StandardCharsets.UTF_8));
        }
        for (String path : args[1].split(",")) {
            try {
                System.out.println("READ " + path + " " + new String(zk.getData(path, false, null), StandardCharsets.UTF_8));
            } catch (KeeperException.NoNodeException e) {
                System.out.println("MISSING " + path);
            } catch (KeeperException e) {
                System.out.println("DENIED " + path + " " + e.code());
            }
        }
        try {
            System.out.println("CHILDREN / " + zk.getChildren("/", false));
        } catch (KeeperException e) {
            System.out.println("DENIED-LIST / " + e.code());
        }
        zk.close();
    }
}
