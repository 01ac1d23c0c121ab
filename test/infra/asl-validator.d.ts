// asl-validator ships no types; the test calls its default export on a parsed definition.
declare module 'asl-validator' {
  export default function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): {
    isValid: boolean;
    errors: { message: string }[];
    errorsText: (separator?: string) => string;
  };
}
