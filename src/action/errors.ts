/** A problem with the action's inputs, found before any request is made. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    problem: string
  ) {
    super(`Input '${input}': ${problem}`)
    this.name = 'InputError'
  }
}

/** Every problem with the inputs at once, so one run shows all that needs fixing. */
export class InputErrors extends Error {
  constructor(readonly problems: InputError[]) {
    super(
      problems.length === 1
        ? problems[0].message
        : `${problems.length} inputs are invalid:\n${problems.map((p) => `- ${p.message}`).join('\n')}`
    )
    this.name = 'InputErrors'
  }
}
