// Strokes drawn as the app's canvas draws them: white ink with round caps and joins on black.
// A stroke is {points: [[x, y], ...], width}; one point alone is a dot.

export function drawStrokes(ctx, strokes) {
  const { width, height } = ctx.canvas;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, width, height);
  for (const stroke of strokes) drawStroke(ctx, stroke);
}

export function drawStroke(ctx, { points, width }) {
  if (!points.length) return;
  ctx.strokeStyle = ctx.fillStyle = "#fff";
  ctx.lineWidth = width;
  ctx.lineCap = ctx.lineJoin = "round";
  if (points.length === 1) {
    ctx.beginPath();
    ctx.arc(points[0][0], points[0][1], width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
}
