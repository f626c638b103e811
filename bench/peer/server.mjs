// The peer: the Neo4j GraphQL Library's generated API over Shouhu's graph, on Apollo Server
// (standalone, Node's own HTTP server), no authentication. Configured by the environment:
// NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, PEER_HOST, PEER_PORT.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

const typeDefs = readFileSync(new URL("./schema.graphql", import.meta.url), "utf8");
const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? ""),
);
await driver.verifyConnectivity();
const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
const server = new ApolloServer({ schema, introspection: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: process.env.PEER_HOST ?? "127.0.0.1", port: Number(process.env.PEER_PORT ?? 4000) },
});
console.log(`peer ready at ${url}`);

async function stop() {
  await server.stop();
  await driver.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
