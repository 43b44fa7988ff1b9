/**
 * Custom elements defined once, whichever FluxiLab module comes first.
 *
 * The panel and the dashboard cards are two bundles that share components (the
 * sparkline) and both run on the same page: Home Assistant loads the cards on every
 * page. `customElements.define` throws for a name already taken, which would stop
 * the second module before it defines anything, so every element goes through here.
 */
export function defineOnce(name: string, element: CustomElementConstructor): void {
  if (!customElements.get(name)) customElements.define(name, element);
}

/** Lit's `@customElement`, but a name already defined is left as it is. */
export const customElement =
  (name: string) =>
  (element: CustomElementConstructor): void => {
    defineOnce(name, element);
  };
