// Lint config: typescript-eslint recommended rules on all TypeScript sources.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**', 'stack/kafka/libs/**', 'dashboards/generated/**', 'loadtest/k6/**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      // kafkajs' values are loaded through core/kafka/kafkajs.ts, whose fixes must run first.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'kafkajs', message: 'import kafkajs values from core/kafka/kafkajs.ts (its fixes must be in place before kafkajs loads)', allowTypeImports: true }] },
      ],
    },
  },
);
