// The user subgraph: accounts, sessions and the profile fields of User. Built by the platform
// (framework/subgraph.ts) from the dependencies it injects; no process start-up here.
import { IdGenerator } from "../../lib/ids";
import { SessionStore } from "../../platform/sessions";
import { COUNT_STATEMENTS, defineSubgraph } from "../../framework/subgraph";
import type { SubgraphContext } from "../../framework/viewer";
import { PrismaClient } from "../../generated/prisma/user/client";
import { USER_REGISTERED_QUEUE } from "../../lib/events";
import { eventRelayKit } from "../../framework/outbox";
import { livePublisher } from "../../platform/live-events";
import { createLoaders, type UserLoaders } from "./loaders";
import { resolvers } from "./resolvers";
import { LoginGuard } from "./login-guard";
import { UserService, UserServiceDeps } from "./service";
import { UserStore, type UserRecord } from "./store";

/** Users per event when `npm run reconcile` announces them all again. */
const REANNOUNCE_BATCH = 500;

export type UserContext = SubgraphContext<UserLoaders, UserService>;

export const subgraph = defineSubgraph<UserContext>({
  name: "user",
  workers: ["event relay"],
  signsTokens: true,
  create(deps) {
    const store = new UserStore(deps.prisma((adapter) => new PrismaClient({ adapter, log: COUNT_STATEMENTS })));
    const profiles = deps.cache<number, UserRecord>("profiles", async (ids) =>
      (await store.findByIds(ids)).map((user) => user ?? undefined),
    );
    const relay = eventRelayKit(deps, store);
    const shared = new UserServiceDeps(
      store,
      new SessionStore(deps.config, deps.kv),
      new IdGenerator(deps.workerId),
      deps.queues,
      deps.config,
      profiles,
      new LoginGuard(deps.config, deps.limits, deps.kv),
      relay.written,
      livePublisher(deps),
    );
    return {
      resolvers,
      warm: async () => ({
        profiles: await profiles.warm(async () =>
          (await store.recentUsers(deps.config.localCache.maxEntries)).map((user) => [Number(user.id), user]),
        ),
      }),
      context: ({ viewer, log, clientIp }) => {
        const loaders = createLoaders(profiles);
        return { viewer, log, loaders, service: new UserService(shared, viewer, loaders, log, clientIp) };
      },
      // Relayed where the workers run; registrations elsewhere only wake it up.
      startWorkers: () => relay.start(),
      settle: () => relay.settle(),
      repair: async () => {
        // For a consumer that missed registrations (its queue lost, its database restored from
        // an older backup): every user is announced again, in events of REANNOUNCE_BATCH ids,
        // through the outbox. Consumers record users idempotently.
        const events = await store.announceAllUsers(USER_REGISTERED_QUEUE, REANNOUNCE_BATCH, `reannounce-${Date.now()}`);
        shared.eventsWritten();
        return { "user-registered events": events };
      },
    };
  },
});
