// The objects whose alerts fall in a cone, nearest first.
import { MAX_CONE_ALERTS, type ConeObject } from "../../lib/alerts";
import { ObjectsTable } from "./ObjectsTable";

type Props = { catalog: string; objects: ConeObject[]; alerts: number; radius: number };

export function ConeResults({ catalog, objects, alerts, radius }: Props) {
  if (objects.length === 0) {
    return (
      <p className="status" role="status">
        No alert in {catalog} within {radius}″ among the alerts you can read. Try a wider radius or
        another survey.
      </p>
    );
  }
  return (
    <>
      <p role="status">
        {objects.length} object{objects.length === 1 ? "" : "s"} with {alerts} alert
        {alerts === 1 ? "" : "s"} within {radius}″
        {alerts >= MAX_CONE_ALERTS
          ? ` (the newest ${MAX_CONE_ALERTS} alerts: narrow the cone to see all)`
          : ""}
        .
      </p>
      <ObjectsTable
        catalog={catalog}
        objects={objects}
        caption="Objects in the cone, nearest first"
      />
    </>
  );
}
