// A sparkline: the last hour of one channel as a small step line, with its range
// for screen readers. Its own shadow root, so it looks the same in the panel and in
// a dashboard card.
import { css, html, LitElement, svg } from "lit";
import type { TemplateResult } from "lit";
import { property } from "lit/decorators.js";
import { customElement } from "../define";
import { sparkPath } from "../series";
import type { Point } from "../series";

const WIDTH = 120;
const HEIGHT = 28;

@customElement("fluxilab-sparkline")
export class Sparkline extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      width: 100%;
      max-width: 160px;
      height: 28px;
      color: var(--fluxilab-spark-color, var(--primary-color, #03a9f4));
    }
    svg {
      width: 100%;
      height: 100%;
      display: block;
    }
    path {
      fill: none;
      stroke: currentColor;
      stroke-width: 1.5;
      vector-effect: non-scaling-stroke;
    }
  `;

  @property({ attribute: false }) points: Point[] = [];
  /** What the line shows, for screen readers ("Temperature, last hour: 20 to 23"). */
  @property() label = "";

  protected override render(): TemplateResult {
    const d = sparkPath(this.points, WIDTH, HEIGHT);
    return html`<svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      preserveAspectRatio="none"
      role="img"
      aria-label=${this.label}
      data-points=${this.points.length}
    >
      ${d ? svg`<path d=${d}></path>` : null}
    </svg>`;
  }
}
