import type { CodegenConfig } from "@graphql-codegen/cli";

// The operations in src/**/*.graphql are validated against the API's SDL;
// an operation the schema no longer supports fails `npm run build`.
const config: CodegenConfig = {
  schema: "../api-graphql/schema.graphql",
  documents: ["src/**/*.graphql"],
  emitLegacyCommonJSImports: false,
  generates: {
    "src/gql/generated.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        scalars: { DateTime: "string", NaiveDate: "string", JSON: "unknown", ID: "string" },
        strictScalars: true,
        skipTypename: true,
        nonOptionalTypename: false,
        dedupeFragments: true,
      },
    },
  },
};
export default config;
