// Regenerates the committed OpenAPI document (docs/openapi.json) from the endpoint contracts.
// Run after changing an endpoint: npm run openapi
import { writeFileSync } from 'node:fs';
import { generateOpenApi, openApiPath } from '#core/openapi';

writeFileSync(openApiPath, await generateOpenApi());
console.log(`wrote ${openApiPath}`);
