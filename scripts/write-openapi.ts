// Regenerates the committed OpenAPI document (docs/openapi.json) and the endpoint table of docs/api.md from
// the endpoint contracts. Run after changing an endpoint: npm run openapi
import { writeFileSync } from 'node:fs';
import { apiGuidePath, generateApiGuide, generateOpenApi, openApiPath } from '#core/openapi';

writeFileSync(openApiPath, await generateOpenApi());
writeFileSync(apiGuidePath, generateApiGuide());
console.log(`wrote ${openApiPath} and ${apiGuidePath}`);
