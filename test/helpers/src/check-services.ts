// Run before the tests (`node test/helpers/src/check-services.ts`): exits 1, with one line per
// missing service, when RabbitMQ, Redis or PostgreSQL does not answer and no Docker engine could
// start it for the tests; 0 otherwise. It never starts anything itself.
import { checkServices, dockerEngineReachable, redactUrl, unavailableLine } from '@nightshift/test-servers';

const statuses = await checkServices();
const missing = statuses.filter((status) => status.failure !== undefined);

if (missing.length === 0) {
  const found = statuses.map((status) => `${status.spec.title} (${redactUrl(status.url)})`);
  console.log(`check-services: ${found.slice(0, -1).join(', ')} and ${found.at(-1)} answer`);
  process.exit(0);
}
if (await dockerEngineReachable()) {
  for (const status of missing) {
    console.log(`check-services: ${status.spec.title} is not reachable at ${redactUrl(status.url)} (${status.failure}); the tests will start ${status.spec.image} with Docker`);
  }
  process.exit(0);
}
for (const status of missing) console.error(unavailableLine(status));
process.exit(1);
