const { PGlite } = require("@electric-sql/pglite");
(async () => {
  const base = process.memoryUsage().rss / 1e6;
  let t = Date.now();
  const opts = process.argv[2] === "small" ? { postgresqlconf: "shared_buffers=16MB\nwork_mem=1MB" } : {};
  const db = new PGlite(process.argv[3], opts);
  await db.waitReady;
  await db.query("select 1");
  console.log(process.argv.slice(2).join(" "), "open ms", Date.now() - t, "rss MB", Math.round(process.memoryUsage().rss / 1e6 - base));
  if (process.argv[4]) {
    const dump = await db.dumpDataDir("none");
    require("fs").writeFileSync(process.argv[4], Buffer.from(await dump.arrayBuffer()));
  }
  await db.close();
  if (process.argv[5]) {
    t = Date.now();
    const b2 = process.memoryUsage().rss / 1e6;
    const db2 = new PGlite({ loadDataDir: new Blob([require("fs").readFileSync(process.argv[5])]) });
    await db2.waitReady;
    console.log("from dump ms", Date.now() - t, "rss+", Math.round(process.memoryUsage().rss / 1e6 - b2));
  }
})();
